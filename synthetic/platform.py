"""Platform mode: a crowd-work platform in the style of the public Tolokers graph (GADBench).

The only evidence is per-account attributes (task outcome rates, volume, education, English,
registration age) and one dense relation, ``co_worked``. Some task communities attract
banned workers (farms of accounts doing the same paid tasks), so a banned worker's
neighbours are banned far more often than the base rate, and a community's risk shows in
its members' attributes and labels. Own attributes are noisy, partly non-monotone, and some
are pure noise: they rank banned workers only moderately well on their own, the neighbours
add what they cannot.

Written: ``accounts``, ``account_attributes``, ``account_links`` (undirected, each pair once,
``linked_at`` unknown), ``labels`` (a random half of the accounts, decided over the last
year), ``ground_truth.parquet`` (``is_fronted`` = banned) and the summary.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from ..features.contract import LABEL_SOURCES, arrow_schema
from . import geo
from .crowd_graph import activity_weights, co_work_links, component_sizes, memberships
from .frame import DAY_SEC, Cols, Window, iso_utc
from .identity import GROUND_TRUTH_SCHEMA
from .population import created_times, pick_zones
from .randomness import PART_PLATFORM, child_rng, choice_index
from .writer import account_ids, numbers, strings, timestamps, write_whole

PLATFORM_STEPS = {"plan": 0.2, "links": 0.5, "tables": 0.3}
LABELLED_SHARE = 0.5
LABEL_WINDOW_DAYS = 365
COUNTRIES = geo.countries(("RU", "UA", "BY", "UZ", "TR", "IN", "US"))
COUNTRY_WEIGHTS = (45, 18, 8, 6, 8, 8, 7)
EDUCATION = ("none", "basic", "middle", "high_school", "bachelor", "master", "phd")
EDUCATION_WEIGHTS = (4, 8, 14, 26, 30, 15, 3)
# community risk (the share of its workers who get banned): some communities are targeted
# by account farms (nearly all banned), the rest are ordinary (a few lone cheaters each)
FARMED_SHARE_OF_BANNED = 0.7
TARGETED_RISK_BETA = (20.0, 1.2)
ORDINARY_RISK_BETA = (12.0, 90.0)  # only its shape counts: rescaled to the banned share left
# how strongly a banned worker's attributes differ: farm accounts (primary community
# targeted) much, lone cheaters little
FARM_EFFECT = 1.7
LONE_EFFECT = 0.2
PRIMARY_WEIGHT = 0.85  # how much the primary community counts in a worker's risk and difficulty


def _account_mean(m: Cols, per_community: np.ndarray, n: int) -> np.ndarray:
    """Per worker: the primary community's value (weight PRIMARY_WEIGHT) blended with the
    mean of its other communities' (the primary's alone when there are none)."""
    primary = np.zeros(n)
    primary[m.acct[m.primary]] = per_community[m.community[m.primary]]
    others = ~m.primary
    total = np.bincount(m.acct[others], per_community[m.community[others]], minlength=n)
    count = np.bincount(m.acct[others], minlength=n)
    other_mean = np.where(count > 0, total / np.maximum(count, 1), primary)
    return PRIMARY_WEIGHT * primary + (1.0 - PRIMARY_WEIGHT) * other_mean


def _targeted_communities(m: Cols, k: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """Communities targeted by farms: taken in random order when they fit, until they hold
    about ``share`` of the workers (by primary community; at least one)."""
    size = np.bincount(m.community[m.primary], minlength=k)
    goal = share * m.primary.sum()
    targeted = np.zeros(k, bool)
    covered = 0
    for c in rng.permutation(k).tolist():
        if covered >= 0.9 * goal:
            break
        if covered + size[c] <= 1.1 * goal:
            targeted[c] = True
            covered += size[c]
    if not targeted.any():
        targeted[np.argmin(np.where(size > 0, size, size.max() + 1))] = True
    return targeted


def _pick_banned(risk: np.ndarray, n_banned: int, rng: np.random.Generator) -> np.ndarray:
    """Exactly ``n_banned`` workers: a coin per worker that comes up with probability about
    ``risk`` (the threshold shifted so that the count is exact)."""
    banned = np.zeros(len(risk), bool)
    if n_banned <= 0:
        return banned
    keys = risk - rng.random(len(risk))
    banned[np.argsort(-keys, kind="stable")[:n_banned]] = True
    return banned


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _rate(x: np.ndarray) -> np.ndarray:
    """A share in [0, 1] from a logit, rounded like a dashboard shows it."""
    return np.round(_sigmoid(x), 4)


def crowd_attributes(crowd: Cols, win: Window, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The account_attributes columns (numpy; ``education`` as codes of :data:`EDUCATION`)
    of the workers ``crowd`` describes."""
    n = len(crowd)
    # farm accounts work badly in the same ways; lone cheaters hide better
    b = crowd.banned * np.where(crowd.farmed, FARM_EFFECT, LONE_EFFECT)
    d, skill = crowd.difficulty, rng.normal(0.0, 1.0, n)
    noise = lambda s: rng.normal(0.0, s, n)  # noqa: E731
    # bots never skip, people who farm accounts skip most tasks: banned at both ends
    skip_shift = np.where(rng.random(n) < 0.5, -0.8, 0.7) * b
    fast = rng.random(n) < 0.65  # banned click through; the rest leave tasks open
    speed_shift = np.where(fast, -0.35, 0.3) * b
    volume = crowd.weight * np.exp(noise(0.7) + 0.2 * b)
    columns = {
        "approved_rate": _rate(1.7 + 0.5 * skill - 0.55 * d - 0.3 * b + noise(0.6)),
        "skipped_rate": _rate(-1.6 + 0.25 * d + skip_shift + noise(0.7)),
        "expired_rate": _rate(-2.6 + 0.35 * d + 0.1 * b + noise(0.8)),
        "rejected_rate": _rate(-2.4 - 0.4 * skill + 0.55 * d + 0.3 * b + noise(0.65)),
        "tasks_done": np.round(60.0 * volume).astype(np.int64),
        "education": choice_index(rng, EDUCATION_WEIGHTS, n),
        "english_profile": rng.random(n) < 0.42,
        "english_tested": rng.random(n) < 0.35 - 0.07 * b,
        "registration_age_days": (win.end_sec - crowd.created_sec) // DAY_SEC,
        "median_task_seconds": np.round(np.exp(np.log(55.0) + 0.3 * d + speed_shift + noise(0.45)), 1),
    }
    return columns


ATTRIBUTE_SCHEMA = pa.schema(
    [
        pa.field("approved_rate", pa.float64()),
        pa.field("skipped_rate", pa.float64()),
        pa.field("expired_rate", pa.float64()),
        pa.field("rejected_rate", pa.float64()),
        pa.field("tasks_done", pa.int64()),
        pa.field("education", pa.string()),
        pa.field("english_profile", pa.bool_()),
        pa.field("english_tested", pa.bool_()),
        pa.field("registration_age_days", pa.int64()),
        pa.field("median_task_seconds", pa.float64()),
    ]
)


def plan_crowd(n: int, banned_share: float, rng: np.random.Generator, win: Window) -> tuple[Cols, Cols, int]:
    """Workers (banned, sign-up, country, zone, activity, community risk and difficulty),
    their community memberships and the number of communities."""
    m, k = memberships(n, rng)
    a, b = TARGETED_RISK_BETA
    farmed_share = FARMED_SHARE_OF_BANNED * banned_share / (a / (a + b))
    targeted = _targeted_communities(m, k, farmed_share, rng)
    risk_c = np.where(targeted, rng.beta(a, b, k), rng.beta(*ORDINARY_RISK_BETA, k))
    difficulty_c = rng.normal(0.0, 1.0, k)  # how hard a community's tasks are: shifts everyone's rates
    in_targeted = np.zeros(n, bool)
    in_targeted[m.acct[m.primary]] = targeted[m.community[m.primary]]
    risk = _account_mean(m, risk_c, n)
    # ordinary workers share what the farms leave of the banned count, so farms stay pure
    n_banned = int(round(n * banned_share))
    left = max(n_banned - risk[in_targeted].sum(), 0.0)
    risk[~in_targeted] *= left / max(risk[~in_targeted].sum(), 1e-9)
    banned = _pick_banned(risk, n_banned, rng)
    # banned accounts are newer on the whole, but a share are old accounts bought or revived
    created = created_times(n, rng, win)
    newer = created_times(n, rng, win, skew=0.45)
    created = np.where(banned & (rng.random(n) < 0.5), newer, created)
    country = COUNTRIES[choice_index(rng, COUNTRY_WEIGHTS, n)].astype(np.int16)
    crowd = Cols(
        banned=banned,
        created_sec=created,
        country=country,
        zone=pick_zones(country, rng),
        weight=activity_weights(n, rng),
        risk=risk,
        farmed=banned & in_targeted,
        difficulty=_account_mean(m, difficulty_c, n),
    )
    return crowd, m, k


def platform_labels(crowd: Cols, rng: np.random.Generator, win: Window) -> Cols:
    """Labels of a random half of the workers, decided at distinct instants over the last year."""
    n = len(crowd)
    labelled = np.sort(rng.permutation(n)[: int(round(n * LABELLED_SHARE))])
    lo = np.maximum(crowd.created_sec[labelled] + 7 * DAY_SEC, win.end_sec - LABEL_WINDOW_DAYS * DAY_SEC)
    hi = win.end_sec - 3600
    decided = lo + (rng.random(len(labelled)) * np.maximum(hi - lo, 1)).astype(np.int64)
    for _ in range(100):  # a platform decides one case at a time: no two at the same second
        _, first = np.unique(decided, return_index=True)
        clash = np.setdiff1d(np.arange(len(decided)), first)
        if len(clash) == 0:
            break
        redraw = rng.random(len(clash)) * np.maximum(hi - lo[clash], 1)
        decided[clash] = lo[clash] + redraw.astype(np.int64)
    label = crowd.banned[labelled].astype(np.int8)
    # bans come from enforcement or review; clearances from review (codes of LABEL_SOURCES)
    ban_source = choice_index(rng, (70, 25, 5), len(labelled))
    clear_source = np.array([1, 2])[choice_index(rng, (85, 15), len(labelled))]
    source = np.where(label == 1, ban_source, clear_source).astype(np.int8)
    return Cols(account=labelled, label=label, decided_sec=decided, source=source)


def _graph_summary(crowd: Cols, a: np.ndarray, b: np.ndarray) -> dict:
    """Degrees, connectivity and how banned workers cluster (for generation.json)."""
    n = len(crowd)
    degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    banned = crowd.banned
    ends_of_banned = np.concatenate([b[banned[a]], a[banned[b]]])  # neighbours of banned workers
    base = float(banned.mean()) if n else 0.0
    neighbour_share = float(banned[ends_of_banned].mean()) if len(ends_of_banned) else 0.0
    sizes = component_sizes(n, a, b)
    return {
        "mean_degree": round(float(degree.mean()), 3),
        "max_degree": int(degree.max()) if n else 0,
        "isolated": int(np.sum(degree == 0)),
        "largest_component_share": round(float(sizes.max() / n), 6),
        "banned_neighbour_share_of_banned": round(neighbour_share, 6),
        "homophily_ratio": round(neighbour_share / base, 3) if base > 0 else None,
    }


def generate_platform(out: Path, params: dict, win: Window, tell) -> dict:
    """Plan and write the platform-mode folder; returns its part of the generation summary."""
    n, seed = params["accounts"], params["seed"]
    tell("plan", 0.0)
    crowd, m, k = plan_crowd(n, params["fronted_share"], child_rng(seed, PART_PLATFORM), win)
    ids = account_ids(n)
    tell("plan", 1.0)
    a, b = co_work_links(m, crowd.weight, k, child_rng(seed, PART_PLATFORM, 1))
    tell("links", 1.0)
    rows = {}
    rows["accounts"] = write_whole(
        out,
        "accounts",
        {
            "account_id": ids,
            "created_at": timestamps(crowd.created_sec),
            "claimed_country": strings(geo.COUNTRY_CODES, crowd.country),
            "claimed_timezone": strings(geo.ZONES, crowd.zone),
            "profile_photo_phash": pa.nulls(n, pa.string()),
            "display_name": pa.nulls(n, pa.string()),
        },
    )
    columns = crowd_attributes(crowd, win, child_rng(seed, PART_PLATFORM, 2))
    arrays = {f.name: numbers(columns[f.name], f.type) for f in ATTRIBUTE_SCHEMA if f.name != "education"}
    arrays["education"] = strings(EDUCATION, columns["education"])
    schema = pa.schema(list(arrow_schema("account_attributes")) + list(ATTRIBUTE_SCHEMA))
    rows["account_attributes"] = write_whole(out, "account_attributes", {"account_id": ids, **arrays}, schema)
    rows["account_links"] = write_whole(
        out,
        "account_links",
        {
            "account_id": ids.take(pa.array(a, pa.int64())),
            "other_account_id": ids.take(pa.array(b, pa.int64())),
            "kind": pa.array(["co_worked"] * len(a), pa.string()),
            "linked_at": pa.nulls(len(a), pa.timestamp("us")),
        },
    )
    lab = platform_labels(crowd, child_rng(seed, PART_PLATFORM, 3), win)
    rows["labels"] = write_whole(
        out,
        "labels",
        {
            "account_id": ids.take(pa.array(lab.account, pa.int64())),
            "label": numbers(lab.label, pa.int8()),
            "decided_at": timestamps(lab.decided_sec),
            "source": strings(LABEL_SOURCES, lab.source),
        },
    )
    rows["ground_truth"] = write_whole(out, "ground_truth", _ground_truth(crowd, ids), GROUND_TRUTH_SCHEMA)
    tell("tables", 1.0)
    return _summary(crowd, lab, rows, k, _graph_summary(crowd, a, b))


def _ground_truth(crowd: Cols, ids: pa.Array) -> dict:
    """Ground-truth columns: banned workers are the positives; no rings, schemes or evasions."""
    n = len(crowd)
    none = pa.nulls(n, pa.string())
    return {
        "account_id": ids,
        "is_fronted": pa.array(crowd.banned, pa.bool_()),
        "scheme": none,
        "ring_id": none,
        "facilitator_id": none,
        "evasions": pa.array([""] * n, pa.string()),
        "lookalike": none,
        "takeover_at": pa.nulls(n, pa.timestamp("us")),
    }


def _summary(crowd: Cols, lab: Cols, rows: dict, k: int, graph: dict) -> dict:
    """The mode's part of the generation summary (row counts, accounts, graph, labels)."""
    n = len(crowd)
    banned = crowd.banned
    label1 = lab.label == 1
    return {
        "rows": rows,
        "accounts": {
            "total": n,
            "fronted": int(banned.sum()),
            "fronted_share": round(float(banned.mean()), 6),
            "communities": k,
        },
        "graph": graph,
        "labels": {
            "total": int(len(lab)),
            "label_1": int(label1.sum()),
            "label_0": int((~label1).sum()),
            "labelled_share": round(len(lab) / n, 6),
            "by_source": {name: int(np.sum(lab.source == i)) for i, name in enumerate(LABEL_SOURCES)},
            "first_decided_at": iso_utc(int(lab.decided_sec.min())) if len(lab) else None,
            "last_decided_at": iso_utc(int(lab.decided_sec.max())) if len(lab) else None,
        },
    }
