"""The generator's driver: plan the population, then write every table of the contract folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..features.contract import ACTIVITY_KINDS, CONTRACT_VERSION, IP_TYPES, LABEL_SOURCES
from ..features.errors import UsageError
from . import geo, modes, tables
from .calendar import zone_table
from .cells import cell_decisions, cell_personas, cell_plan
from .clients import write_client_side
from .frame import Cols, Window, iso_utc
from .labels import apply_bans, decide_labels
from .lookalikes import assign_lookalikes
from .networks import address_pools, vpn_exits
from .personas import build_personas
from .platform import PLATFORM_STEPS, generate_platform
from .population import (
    EVASION_BIT,
    EVASIONS,
    LOOKALIKES,
    SCHEMES,
    legit_accounts,
    order_by_creation,
)
from .randomness import (
    PART_CELLS,
    PART_CLIENTS,
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

    def __init__(self, callback: Progress | None, steps: dict[str, float] = _STEPS) -> None:
        self.callback = callback
        self.steps = steps
        self.done = 0.0

    def __call__(self, step: str, fraction: float) -> None:
        if self.callback is None:
            return
        order = list(self.steps)
        before = (
            sum(w for s, w in self.steps.items() if order.index(s) < order.index(step))
            if step in self.steps
            else 1.0
        )
        self.done = max(self.done, min(1.0, before + self.steps.get(step, 0.0) * fraction))
        self.callback(step, round(self.done, 6))


def check_arguments(accounts: int, seed: int, fronted_share: float) -> None:
    """Reject sizes, seeds and shares the generator cannot honour."""
    if accounts < 1:
        raise UsageError("accounts must be at least 1")
    if seed < 0:
        raise UsageError("seed must be a non-negative integer")
    if not 0.0 <= fronted_share < 0.5:
        raise UsageError("fronted_share must be in [0, 0.5)")


class World:
    """Everything planned before rows are written: accounts, rings, facilitators, labels.

    ``cells``: fronted identities are isolated cells (behaviour mode, :mod:`.cells`) instead
    of rings with facilitators and rented accounts; their random numbers come from streams
    of their own, so the classic world's streams never move.
    """

    def __init__(
        self, accounts: int, seed: int, fronted_share: float, win: Window, cells: bool = False
    ) -> None:
        check_arguments(accounts, seed, fronted_share)
        self.seed, self.win, self.cells = int(seed), win, cells
        n_fronted = int(round(accounts * fronted_share))
        legit = legit_accounts(accounts - n_fronted, child_rng(seed, PART_POPULATION), win)
        assign_lookalikes(legit, np.ones(len(legit), bool), child_rng(seed, PART_LOOKALIKES), win)
        if cells:
            fronted, self.rings, self.facilitators = cell_plan(n_fronted, child_rng(seed, PART_CELLS), win)
        else:
            fronted, self.rings, self.facilitators = fronted_plan(n_fronted, child_rng(seed, PART_RINGS), win)
        plan = Cols.concat([legit, fronted])
        self.plan = plan.take(order_by_creation(plan, child_rng(seed, PART_POPULATION, 1)))
        caught = cell_decisions(self.plan, child_rng(seed, PART_CELLS, 1), win) if cells else None
        self.labels = decide_labels(self.plan, self.rings, child_rng(seed, PART_LABELS), win, caught)
        apply_bans(self.plan)
        self.key = int(random_u64(child_rng(seed, PART_KEYS), 1)[0])
        self.exits = vpn_exits(accounts, child_rng(seed, PART_PERSONAS, 1))
        self.personas = build_personas(
            self.plan, self.rings, self.facilitators, self.exits, child_rng(seed, PART_PERSONAS), win
        )
        if cells:
            rng = child_rng(seed, PART_CELLS, 2)
            cell_personas(self.personas, self.plan, self.rings, self.facilitators, self.exits, rng)
        self.zones = zone_table(win.table_start_sec, win.end_sec + 2 * 86_400)
        self.n = len(self.plan)


def write_sessions_activity(
    world: World,
    out_dir: Path,
    ids: pa.Array,
    progress: Callable[[str, float], None],
    with_activity: bool = True,
) -> tuple[int, int]:
    """Write sessions.parquet and (``with_activity``) activity.parquet chunk by chunk; returns
    their row counts (0 activity rows when it is not written)."""
    sw = TableWriter(out_dir, "sessions")
    aw = TableWriter(out_dir, "activity") if with_activity else None
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
        if aw is not None:
            aw.write(
                {
                    "account_id": ids.take(pa.array(a.acct, type=pa.int64())),
                    "ts": timestamps(a.t_sec),
                    "kind": strings(ACTIVITY_KINDS, a.kind),
                }
            )
        progress("sessions", (i + 1) / n_chunks)
    return sw.close(), (aw.close() if aw is not None else 0)


def write_json(path: Path, summary: dict) -> None:
    """Deterministic JSON (sorted keys, fixed indentation)."""
    path.write_text(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=True) + "\n", encoding="utf-8")


def _counts(values: np.ndarray, names: tuple[str, ...]) -> dict[str, int]:
    return {name: int(np.sum(values == i)) for i, name in enumerate(names)}


def summarize(world: World, rows: dict[str, int]) -> dict:
    """The marketplace's part of the generation summary: row counts and counts of every kind
    of account."""
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
            "first_decided_at": iso_utc(int(lab.decided_sec.min())) if len(lab) else None,
            "last_decided_at": iso_utc(int(lab.decided_sec.max())) if len(lab) else None,
        },
    }


def generate(
    out_dir: str | Path,
    accounts: int = 20_000,
    seed: int = 0,
    *,
    mode: str = "classic",
    fronted_share: float | None = None,
    end: datetime = datetime(2026, 10, 1),
    progress: Progress | None = None,
) -> dict:
    """Generate a synthetic marketplace into ``out_dir`` and return the generation summary.

    ``mode`` (one of :data:`MODES`, see :mod:`.modes`) picks the world and the tables:
    ``classic`` writes every contract table (``accounts.parquet`` ... ``labels.parquet``,
    exact contract schemas, naive-UTC ``timestamp[us]``); ``thin`` and ``platform`` write
    fewer (contract files of tables a mode does not write are removed from ``out_dir``).
    Every mode writes ``ground_truth.parquet`` and ``generation.json``. Accounts sign up
    between ``end - 900 days`` and ``end - 14 days``; rows run up to ``end`` (a naive
    ``end`` is UTC). ``fronted_share`` of the accounts front for remote IT workers (in
    ``platform``: are banned); None takes the mode's default. The same arguments give
    byte-identical files. ``progress(step, fraction)`` is called as the work advances, with
    the current step's name and the fraction of the whole run done so far (0..1, never
    decreasing; ends with ``("done", 1.0)``).
    """
    share = modes.resolve(mode, fronted_share)
    check_arguments(int(accounts), int(seed), share)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = modes.MODE_TABLES[mode]
    for name in modes.MODE_TABLES["classic"]:
        if name not in written:
            (out / f"{name}.parquet").unlink(missing_ok=True)
    end_utc = end if end.tzinfo is None else end.astimezone(UTC).replace(tzinfo=None)
    params = {
        "accounts": int(accounts),
        "seed": int(seed),
        "mode": mode,
        "fronted_share": share,
        "end": end_utc.isoformat(),
    }
    if mode == "platform":
        tell = _Progress(progress, PLATFORM_STEPS)
        body = generate_platform(out, params, Window.ending(end), tell)
    else:
        tell = _Progress(progress)
        body = _generate_marketplace(out, params, Window.ending(end), written, tell)
    summary = {
        "generator_version": GENERATOR_VERSION,
        "contract_version": CONTRACT_VERSION,
        "parameters": params,
        "end": params["end"],
        "suggested_as_of": params["end"],
        **body,
    }
    write_json(out / "generation.json", summary)
    tell("done", 1.0)
    return summary


def _generate_marketplace(
    out: Path, params: dict, win: Window, written: tuple[str, ...], tell: _Progress
) -> dict:
    """Plan the marketplace world and write the tables ``written``; returns its part of the
    generation summary."""
    tell("plan", 0.0)
    cells = params["mode"] == "behaviour"
    world = World(params["accounts"], params["seed"], params["fronted_share"], win, cells)
    ids = account_ids(world.n)
    tell("plan", 1.0)
    rows: dict[str, int] = {}
    rows["accounts"], handles = tables.write_accounts(world, out, ids)
    pa.default_memory_pool().release_unused()
    tell("accounts", 1.0)
    rows["sessions"], activity = write_sessions_activity(world, out, ids, tell, "activity" in written)
    if "activity" in written:
        rows["activity"] = activity
    pa.default_memory_pool().release_unused()
    if "payouts" in written:  # the full export; thin stops at accounts, sessions and labels
        rows["payout_methods"], rows["payouts"], payout_count = tables.write_money(world, out, ids)
        tell("payouts", 1.0)
        rows["portfolio_items"] = tables.write_portfolio(world, out, ids, handles)
        tell("portfolio", 1.0)
        rows["account_attributes"] = tables.write_attributes(world, out, ids, payout_count)
        rows["account_links"] = tables.write_links(world, out, ids)
    if "contracts" in written:
        rows.update(write_client_side(world.plan, win, child_rng(world.seed, PART_CLIENTS), out,
                                      ids))
    else:
        (out / "collaborators.parquet").unlink(missing_ok=True)
    rows["labels"] = tables.write_labels(world, out, ids)
    rows["ground_truth"] = tables.write_ground_truth(world, out, ids)
    tell("tables", 1.0)
    return summarize(world, rows)
