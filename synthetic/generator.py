"""The generator's driver: plan the population, then write every table of the contract folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..features.contract import ACTIVITY_KINDS, CONTRACT_VERSION, IP_TYPES, LABEL_SOURCES
from . import geo, tables
from .calendar import zone_table
from .frame import Cols, Window
from .labels import apply_bans, decide_labels
from .lookalikes import assign_lookalikes
from .networks import address_pools, vpn_exits
from .personas import build_personas
from .population import EVASION_BIT, EVASIONS, LOOKALIKES, SCHEMES, legit_accounts, order_by_creation
from .randomness import (
    PART_KEYS,
    PART_LABELS,
    PART_LOOKALIKES,
    PART_PERSONAS,
    PART_POPULATION,
    PART_RINGS,
    PART_SESSIONS,
    child_rng,
    hex16,
    random_u64,
)
from .rings import REMOTE_TOOLS, fronted_plan
from .sessions import chunk_rows
from .writer import TableWriter, account_ids, numbers, strings, timestamps

GENERATOR_VERSION = 1
CHUNK_ACCOUNTS = 40_000
Progress = Callable[[str, float], None]
# share of the whole run each step takes (progress reports overall fractions)
_STEPS = {
    "plan": 0.04,
    "accounts": 0.06,
    "sessions": 0.66,
    "payouts": 0.06,
    "portfolio": 0.12,
    "tables": 0.06,
}


class _Progress:
    """Turns 'step k is x done' into the overall, non-decreasing fraction of the run."""

    def __init__(self, callback: Progress | None) -> None:
        self.callback = callback
        self.done = 0.0

    def __call__(self, step: str, fraction: float) -> None:
        if self.callback is None:
            return
        before = (
            sum(w for s, w in _STEPS.items() if list(_STEPS).index(s) < list(_STEPS).index(step))
            if step in _STEPS
            else 1.0
        )
        self.done = max(self.done, min(1.0, before + _STEPS.get(step, 0.0) * fraction))
        self.callback(step, round(self.done, 6))


class World:
    """Everything planned before rows are written: accounts, rings, facilitators, labels."""

    def __init__(self, accounts: int, seed: int, fronted_share: float, win: Window) -> None:
        if accounts < 1:
            raise ValueError("accounts must be at least 1")
        if seed < 0:
            raise ValueError("seed must be a non-negative integer")
        if not 0.0 <= fronted_share < 0.5:
            raise ValueError("fronted_share must be in [0, 0.5)")
        self.seed, self.win = int(seed), win
        n_fronted = int(round(accounts * fronted_share))
        legit = legit_accounts(accounts - n_fronted, child_rng(seed, PART_POPULATION), win)
        assign_lookalikes(legit, np.ones(len(legit), bool), child_rng(seed, PART_LOOKALIKES), win)
        fronted, self.rings, self.facilitators = fronted_plan(n_fronted, child_rng(seed, PART_RINGS), win)
        plan = Cols.concat([legit, fronted])
        self.plan = plan.take(order_by_creation(plan, child_rng(seed, PART_POPULATION, 1)))
        self.labels = decide_labels(self.plan, self.rings, child_rng(seed, PART_LABELS), win)
        apply_bans(self.plan)
        self.key = int(random_u64(child_rng(seed, PART_KEYS), 1)[0])
        self.exits = vpn_exits(accounts, child_rng(seed, PART_PERSONAS, 1))
        self.personas = build_personas(
            self.plan, self.rings, self.facilitators, self.exits, child_rng(seed, PART_PERSONAS), win
        )
        self.zones = zone_table(win.table_start_sec, win.end_sec + 2 * 86_400)
        self.n = len(self.plan)


def write_sessions_activity(
    world: World, out_dir: Path, ids: pa.Array, progress: Callable[[str, float], None]
) -> tuple[int, int]:
    """Write sessions.parquet and activity.parquet chunk by chunk; returns their row counts."""
    sw, aw = TableWriter(out_dir, "sessions"), TableWriter(out_dir, "activity")
    p = world.personas
    pools = address_pools(world.plan.loc_country)
    n_chunks = max(1, -(-world.n // CHUNK_ACCOUNTS))
    bounds = np.searchsorted(p.acct, np.arange(n_chunks + 1) * CHUNK_ACCOUNTS)
    countries = pa.array(list(geo.COUNTRY_CODES), type=pa.string())
    for i in range(n_chunks):
        part = p.take(slice(bounds[i], bounds[i + 1]))
        s, a = chunk_rows(
            part,
            world.plan.created_sec,
            world.exits,
            pools,
            world.zones,
            child_rng(world.seed, PART_SESSIONS, i),
            world.key,
        )
        acct_s = pa.array(s.acct, type=pa.int64())
        sw.write(
            {
                "account_id": ids.take(acct_s),
                "started_at": timestamps(s.t_sec),
                "ip_token": hex16(s.ip_token),
                "ip_country": strings(countries, s.ip_country, s.country_ok),
                "asn": numbers(s.asn, pa.int64(), s.asn_ok),
                "ip_type": strings(IP_TYPES, s.ip_type),
                "device_token": hex16(s.device_token, s.device_ok),
                "browser_utc_offset_min": numbers(s.offset_min, pa.int32(), s.offset_ok),
                "remote_access_tool": strings(REMOTE_TOOLS, s.tool),
            }
        )
        aw.write(
            {
                "account_id": ids.take(pa.array(a.acct, type=pa.int64())),
                "ts": timestamps(a.t_sec),
                "kind": strings(ACTIVITY_KINDS, a.kind),
            }
        )
        progress("sessions", (i + 1) / n_chunks)
    return sw.close(), aw.close()


def write_json(path: Path, summary: dict) -> None:
    """Deterministic JSON (sorted keys, fixed indentation)."""
    path.write_text(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=True) + "\n", encoding="utf-8")


def _counts(values: np.ndarray, names: tuple[str, ...]) -> dict[str, int]:
    return {name: int(np.sum(values == i)) for i, name in enumerate(names)}


def summarize(world: World, params: dict, rows: dict[str, int]) -> dict:
    """The generation summary: parameters, row counts, and counts of every kind of account."""
    plan, lab = world.plan, world.labels
    n = world.n
    fronted = plan.is_fronted
    ev_counts = {name: int(np.sum(fronted & ((plan.evasion & EVASION_BIT[name]) > 0))) for name in EVASIONS}
    ev_counts["none"] = int(np.sum(fronted & (plan.evasion == 0)))
    rings_used = np.unique(plan.ring[fronted & (plan.ring >= 0)])
    facs_used = np.unique(plan.facilitator[fronted & (plan.facilitator >= 0)])
    label1 = lab.label == 1
    confirmed = int(np.sum(label1 & fronted[lab.account]))
    return {
        "generator_version": GENERATOR_VERSION,
        "contract_version": CONTRACT_VERSION,
        "parameters": params,
        "end": params["end"],
        "suggested_as_of": params["end"],
        "rows": rows,
        "accounts": {
            "total": n,
            "fronted": int(fronted.sum()),
            "fronted_share": round(float(fronted.mean()), 6),
            "rings": int(len(rings_used)),
            "facilitators": int(len(facs_used)),
            "ring_size_mean": round(float(np.mean(world.rings.size)), 3) if len(world.rings) else 0.0,
        },
        "schemes": _counts(plan.scheme, SCHEMES),
        "evasions": ev_counts,
        "lookalikes": _counts(plan.lookalike, LOOKALIKES),
        "lookalike_share": round(float(np.mean(plan.lookalike >= 0)), 6),
        "labels": {
            "total": int(len(lab)),
            "label_1": int(label1.sum()),
            "label_0": int((~label1).sum()),
            "labelled_share": round(len(lab) / n, 6),
            "fronted_confirmed": confirmed,
            "fronted_confirmed_share": round(confirmed / max(1, int(fronted.sum())), 6),
            "legit_wrongly_banned": int(np.sum(label1 & ~fronted[lab.account])),
            "fronted_wrongly_cleared": int(np.sum(~label1 & fronted[lab.account])),
            "by_source": _counts(lab.source, LABEL_SOURCES),
            "first_decided_at": _iso(int(lab.decided_sec.min())) if len(lab) else None,
            "last_decided_at": _iso(int(lab.decided_sec.max())) if len(lab) else None,
        },
    }


def _iso(sec: int) -> str:
    return datetime.fromtimestamp(sec, tz=UTC).replace(tzinfo=None).isoformat()


def generate(
    out_dir: str | Path,
    accounts: int = 20_000,
    seed: int = 0,
    *,
    fronted_share: float = 0.01,
    end: datetime = datetime(2026, 10, 1),
    progress: Progress | None = None,
) -> dict:
    """Generate a synthetic marketplace into ``out_dir`` and return the generation summary.

    Writes every contract table (``accounts.parquet`` ... ``labels.parquet``, exact contract
    schemas, naive-UTC ``timestamp[us]``), ``ground_truth.parquet`` and ``generation.json``.
    Accounts sign up between ``end - 900 days`` and ``end - 14 days``; rows run up to ``end``
    (a naive ``end`` is UTC). ``fronted_share`` of the accounts front for remote IT workers.
    The same ``accounts``, ``seed``, ``fronted_share`` and ``end`` give byte-identical files.
    ``progress(step, fraction)`` is called as the work advances, with the current step's name
    and the fraction of the whole run done so far (0..1, never decreasing; ends with
    ``("done", 1.0)``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tell = _Progress(progress)
    tell("plan", 0.0)
    world = World(int(accounts), int(seed), float(fronted_share), Window.ending(end))
    ids = account_ids(world.n)
    tell("plan", 1.0)
    rows: dict[str, int] = {}
    rows["accounts"], handles = tables.write_accounts(world, out, ids)
    pa.default_memory_pool().release_unused()
    tell("accounts", 1.0)
    rows["sessions"], rows["activity"] = write_sessions_activity(world, out, ids, tell)
    pa.default_memory_pool().release_unused()
    rows["payout_methods"], rows["payouts"], payout_count = tables.write_money(world, out, ids)
    tell("payouts", 1.0)
    rows["portfolio_items"] = tables.write_portfolio(world, out, ids, handles)
    tell("portfolio", 1.0)
    rows["account_attributes"] = tables.write_attributes(world, out, ids, payout_count)
    rows["account_links"] = tables.write_links(world, out, ids)
    rows["labels"] = tables.write_labels(world, out, ids)
    rows["ground_truth"] = tables.write_ground_truth(world, out, ids)
    tell("tables", 1.0)
    end_utc = end if end.tzinfo is None else end.astimezone(UTC).replace(tzinfo=None)
    params = {
        "accounts": int(accounts),
        "seed": int(seed),
        "fronted_share": float(fronted_share),
        "end": end_utc.isoformat(),
    }
    summary = summarize(world, params, rows)
    write_json(out / "generation.json", summary)
    tell("done", 1.0)
    return summary
