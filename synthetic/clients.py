"""The client side (contract 1.1): contracts, proposals and reviews, with collaborators.

Clients are accounts of the population (many marketplace accounts both hire and work), so
the other tables do not move. Who hires whom:

- honest clients (6% of legitimate accounts) hire a few freelancers of any kind, fronted
  ones included (fronts do real work), and often hire the same freelancer again;
- enterprise clients (one per 5,000 accounts) hire dozens to hundreds: an honest hub;
- agency owners (the first member of each agency) hire their own staff, who share the
  agency's payout account: honest self-dealing, the look-alike of the scheme;
- facilitator clients: for 60% of facilitators (and 30% of rings without one), one fronted
  account of their rings hires the other members soon after they sign up, with small
  billed amounts and fast five-star reviews (reputation building); it shares the ring's
  payout destinations, IPs and devices, so the contract is self-dealing.

Proposals: half the active accounts bid on jobs; every cover text opens and closes with
stock boilerplate that many honest freelancers share; the body is the sender's own, except
that 70% of rings (and 40% of agencies, the look-alike) reuse one template body across
their members with a word or two changed.

Every random number comes from the generator's own part (``PART_CLIENTS``), so the classic
tables stay byte for byte what they were. ``collaborators.parquet`` (not a contract table)
records who played which client role.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import vocab
from .frame import DAY_SEC, Cols, Window
from .randomness import choice_index, group_slices

CLIENT_ROLES = ("honest_client", "enterprise_client", "agency_owner", "facilitator_client")
HONEST_CLIENT_SHARE = 0.06
ACCOUNTS_PER_ENTERPRISE = 5_000
FACILITATOR_CLIENT_SHARE = 0.6
RING_CLIENT_SHARE = 0.3
PROPOSING_SHARE = 0.5
RING_TEMPLATE_SHARE = 0.7
AGENCY_TEMPLATE_SHARE = 0.4
_BODY_WORDS = 24
_OPENERS = (
    "Hello, I have read your job description carefully and I am confident I can help.",
    "Hi there, thank you for posting this job, it matches my experience well.",
    "Dear client, I am very interested in your project and available to start today.",
    "Hello, I can deliver this project on time and within your budget.",
)
_CLOSERS = (
    "Looking forward to hearing from you. Best regards.",
    "Feel free to contact me to discuss the details. Thank you.",
    "Please message me so we can discuss your requirements.",
)
_WORDS = np.array(sorted({w for group in (vocab.VERBS, vocab.ADJECTIVES, vocab.TECHS,
                                          vocab.INDUSTRIES, vocab.RESULTS)
                          for phrase in group for w in phrase.lower().split(" ")}))


def _start_after(rng: np.random.Generator, earliest: np.ndarray, end_sec: int,
                 within_days: float | None = None) -> np.ndarray:
    """A start time after ``earliest`` (plus a day) and before the export ends."""
    lo = earliest + DAY_SEC
    span = np.maximum(end_sec - DAY_SEC - lo, 3600)
    if within_days is not None:
        span = np.minimum(span, int(within_days * DAY_SEC))
    return lo + (rng.random(len(lo)) * span).astype(np.int64)


def _pairs_honest(plan: Cols, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(client, freelancer) of honest and enterprise hires; repeats come from a small pool."""
    n = len(plan)
    legit = np.flatnonzero(~plan.is_fronted)
    clients = legit[rng.random(len(legit)) < HONEST_CLIENT_SHARE]
    hires = 1 + rng.poisson(2.5, len(clients))
    client = np.repeat(clients, hires)
    pool = np.maximum(1, (hires * rng.uniform(0.5, 1.0, len(clients))).astype(np.int64))
    slot = (rng.random(len(client)) * np.repeat(pool, hires)).astype(np.int64)
    # a freelancer per (client, pool slot): the same slot is the same freelancer again
    base = np.repeat(rng.integers(0, max(n, 1), len(clients)), hires)
    freelancer = (base + slot * 7_919) % max(n, 1)
    freelancer = np.where(freelancer == client, (freelancer + 1) % max(n, 1), freelancer)
    n_ent = _enterprise_count(n)
    ent = rng.choice(legit, size=min(n_ent, len(legit)), replace=False)
    ent_hires = rng.integers(40, 150, len(ent))
    ent_client = np.repeat(ent, ent_hires)
    ent_free = rng.integers(0, max(n, 1), len(ent_client))
    ent_free = np.where(ent_free == ent_client, (ent_free + 1) % max(n, 1), ent_free)
    return np.concatenate([client, ent_client]), np.concatenate([freelancer, ent_free])


def _enterprise_count(n: int) -> int:
    return max(1, n // ACCOUNTS_PER_ENTERPRISE) if n >= 200 else 0


def _group_hires(groups: np.ndarray, members: np.ndarray, rng: np.random.Generator,
                 plan: Cols) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The earliest-created member of each group hires the others 1 to 3 times:
    (client, freelancer, client's group key)."""
    if len(members) == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    order, starts, ends = group_slices(groups)
    clients, frees, keys = [], [], []
    for s, e in zip(starts, ends):
        rows = members[order[s:e]]
        if len(rows) < 2:
            continue
        owner = rows[np.argmin(plan.created_sec[rows])]
        staff = rows[rows != owner]
        times = rng.integers(1, 4, len(staff))
        frees.append(np.repeat(staff, times))
        clients.append(np.full(int(times.sum()), owner))
        keys.append(np.full(int(times.sum()), groups[order[s]]))
    if not clients:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    return np.concatenate(clients), np.concatenate(frees), np.concatenate(keys)


def _collusive_groups(plan: Cols, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(members, group key) of fronted accounts whose facilitator or ring runs a client."""
    ring_rows = np.flatnonzero(plan.is_fronted & (plan.ring >= 0))
    fac = plan.facilitator[ring_rows]
    # group key: the facilitator when there is one, else the ring (offset past facilitators)
    key = np.where(fac >= 0, fac, plan.ring[ring_rows] + 1_000_000).astype(np.int64)
    chosen = {}
    for k in np.unique(key):
        share = FACILITATOR_CLIENT_SHARE if k < 1_000_000 else RING_CLIENT_SHARE
        chosen[int(k)] = rng.random() < share
    keep = np.array([chosen[int(k)] for k in key], bool) if len(key) else np.zeros(0, bool)
    return ring_rows[keep], key[keep]


def plan_contracts(plan: Cols, win: Window, rng: np.random.Generator) -> tuple[Cols, Cols]:
    """Contracts (client, freelancer, times, billed, collusive flag) and client roles."""
    n = len(plan)
    h_client, h_free = _pairs_honest(plan, rng)
    agency_rows = np.flatnonzero(plan.agency >= 0)
    a_client, a_free, _ = _group_hires(plan.agency[agency_rows].astype(np.int64), agency_rows,
                                       rng, plan)
    c_rows, c_key = _collusive_groups(plan, rng)
    f_client, f_free, _ = _group_hires(c_key, c_rows, rng, plan)
    kind = np.concatenate([np.zeros(len(h_client), np.int8), np.full(len(a_client), 2, np.int8),
                           np.full(len(f_client), 3, np.int8)])
    client = np.concatenate([h_client, a_client, f_client]).astype(np.int64)
    free = np.concatenate([h_free, a_free, f_free]).astype(np.int64)
    earliest = np.maximum(plan.created_sec[client], plan.created_sec[free])
    collusive = kind == 3
    start = np.where(collusive, _start_after(rng, earliest, win.end_sec, within_days=30),
                     _start_after(rng, earliest, win.end_sec))
    days = rng.lognormal(3.0, 0.9, len(start)) * np.where(collusive, 0.2, 1.0)
    ended = start + (days * DAY_SEC).astype(np.int64)
    billed = np.where(collusive, rng.lognormal(4.0, 0.6, len(start)),
                      rng.lognormal(6.2, 1.1, len(start)))
    contracts = Cols(client=client, freelancer=free, start_sec=start, end_sec=ended,
                     ended=ended < win.end_sec, billed=np.round(billed, 2),
                     collusive=collusive)
    role = np.full(n, -1, np.int8)
    role[np.unique(h_client)] = 0
    n_ent = _enterprise_count(n)
    if n_ent:  # enterprise clients are the honest clients with the most hires
        counts = np.bincount(h_client, minlength=n)
        role[np.argsort(-counts, kind="stable")[:n_ent]] = 1
    role[np.unique(a_client)] = 2
    role[np.unique(f_client)] = 3
    key = np.full(n, -1, np.int64)
    key[c_rows] = c_key
    return contracts, Cols(role=role, collusive_group=key)


def plan_reviews(contracts: Cols, end_sec: int, rng: np.random.Generator) -> Cols:
    """Reviews after ended contracts: the client's of the freelancer (honest ratings mostly
    4-5; collusive ones fast five stars) and, less often, the freelancer's of the client."""
    done = np.flatnonzero(contracts.ended)
    col = contracts.collusive[done]
    by_client = rng.random(len(done)) < np.where(col, 0.95, 0.7)
    by_free = rng.random(len(done)) < np.where(col, 0.8, 0.45)
    honest_rating = np.array([5, 4, 3, 2, 1], float)[choice_index(rng, (60, 25, 8, 4, 3),
                                                                   len(done))]
    rating = np.where(col, 5.0, honest_rating)
    delay = np.where(col, rng.uniform(0, 1, len(done)), rng.uniform(0.5, 10, len(done)))
    at = contracts.end_sec[done] + (delay * DAY_SEC).astype(np.int64)
    ok_c = by_client & (at < end_sec)
    ok_f = by_free & (at + 3600 < end_sec)
    return Cols(
        contract=np.concatenate([done[ok_c], done[ok_f]]),
        author=np.concatenate([contracts.client[done][ok_c], contracts.freelancer[done][ok_f]]),
        subject=np.concatenate([contracts.freelancer[done][ok_c], contracts.client[done][ok_f]]),
        rating=np.concatenate([rating[ok_c], np.where(col, 5.0, 5.0 - (honest_rating < 4))[ok_f]]),
        at_sec=np.concatenate([at[ok_c], at[ok_f] + 3600]),
    )


def plan_proposals(plan: Cols, roles: Cols, win: Window, rng: np.random.Generator
                   ) -> tuple[Cols, list[str]]:
    """Proposals (account, time, job) and their cover texts."""
    n = len(plan)
    proposing = rng.random(n) < PROPOSING_SHARE
    proposing |= plan.is_fronted  # fronts bid a lot
    rows = np.flatnonzero(proposing)
    count = 1 + rng.poisson(np.where(plan.is_fronted[rows], 5.0, 2.5))
    acct = np.repeat(rows, count)
    earliest = plan.created_sec[acct]
    stop = np.maximum(plan.stop_sec[acct], earliest + 2 * DAY_SEC)
    at = earliest + DAY_SEC + (rng.random(len(acct)) * (stop - earliest - DAY_SEC)).astype(np.int64)
    at = np.minimum(at, win.end_sec - 3600)
    job = rng.integers(0, max(10, n * 2), len(acct))
    # the body: the account's template when its group uses one, else its own words
    template_of = np.full(n, -1, np.int64)
    ring_key = np.where(plan.facilitator >= 0, plan.facilitator, plan.ring + 1_000_000)
    fronted_rings = np.unique(ring_key[plan.is_fronted & (plan.ring >= 0)])
    use = fronted_rings[rng.random(len(fronted_rings)) < RING_TEMPLATE_SHARE]
    is_templated = plan.is_fronted & (plan.ring >= 0) & np.isin(ring_key, use)
    template_of[is_templated] = ring_key[is_templated]
    agencies = np.unique(plan.agency[plan.agency >= 0])
    a_use = agencies[rng.random(len(agencies)) < AGENCY_TEMPLATE_SHARE]
    agency_templated = np.isin(plan.agency, a_use) & (plan.agency >= 0)
    template_of[agency_templated] = 2_000_000 + plan.agency[agency_templated]
    keys = np.unique(template_of[template_of >= 0])
    bodies = {int(k): rng.integers(0, len(_WORDS), _BODY_WORDS) for k in keys}
    opener = choice_index(rng, (1, 1, 1, 1), len(acct))
    closer = choice_index(rng, (1, 1, 1), len(acct))
    own = rng.integers(0, len(_WORDS), (len(acct), _BODY_WORDS))
    edit_at = rng.integers(0, _BODY_WORDS, (len(acct), 2))
    edit_word = rng.integers(0, len(_WORDS), (len(acct), 2))
    n_edits = rng.integers(0, 3, len(acct))  # a copy keeps most of its words
    texts = []
    for i, a in enumerate(acct):
        t = int(template_of[a])
        if t >= 0:
            words = bodies[t].copy()
            words[edit_at[i, :n_edits[i]]] = edit_word[i, :n_edits[i]]
        else:
            words = own[i]
        texts.append(f"{_OPENERS[opener[i]]} {' '.join(_WORDS[words])}. {_CLOSERS[closer[i]]}")
    bid = np.round(rng.lognormal(5.0, 1.0, len(acct)), 2)
    return Cols(account=acct, at_sec=at, job=job, bid=bid), texts


def proposal_text_array(texts: list[str]) -> pa.Array:
    """Cover texts as an Arrow string column."""
    return pa.array(texts, type=pa.string())


def write_client_side(plan: Cols, win: Window, rng: np.random.Generator, out_dir, ids: pa.Array
                      ) -> dict[str, int]:
    """Write contracts, proposals and reviews (contract tables) and collaborators.parquet
    (the truth of client roles); returns their row counts."""
    from .writer import numbers, timestamps, write_whole

    contracts, roles = plan_contracts(plan, win, rng)
    order = np.lexsort((contracts.freelancer, contracts.start_sec))
    contracts = contracts.take(order)
    reviews = plan_reviews(contracts, win.end_sec, rng)
    proposals, texts = plan_proposals(plan, roles, win, rng)
    k = len(contracts)
    contract_ids = pa.array([f"k{i:08d}" for i in range(k)], type=pa.string())
    rows = {"contracts": write_whole(out_dir, "contracts", {
        "contract_id": contract_ids,
        "client_account_id": ids.take(pa.array(contracts.client)),
        "freelancer_account_id": ids.take(pa.array(contracts.freelancer)),
        "started_at": timestamps(contracts.start_sec),
        "ended_at": timestamps(contracts.end_sec, contracts.ended),
        "billed_usd": numbers(contracts.billed, pa.float64()),
    })}
    p_order = np.lexsort((proposals.account, proposals.at_sec))
    rows["proposals"] = write_whole(out_dir, "proposals", {
        "proposal_id": pa.array([f"p{i:09d}" for i in range(len(p_order))], type=pa.string()),
        "account_id": ids.take(pa.array(proposals.account[p_order])),
        "job_id": pa.array([f"j{j:08d}" for j in proposals.job[p_order]], type=pa.string()),
        "submitted_at": timestamps(proposals.at_sec[p_order]),
        "cover_text": proposal_text_array([texts[i] for i in p_order]),
        "bid_usd": numbers(proposals.bid[p_order], pa.float64()),
    })
    r_order = np.lexsort((reviews.author, reviews.at_sec))
    rows["reviews"] = write_whole(out_dir, "reviews", {
        "review_id": pa.array([f"r{i:09d}" for i in range(len(r_order))], type=pa.string()),
        "contract_id": contract_ids.take(pa.array(reviews.contract[r_order])),
        "author_account_id": ids.take(pa.array(reviews.author[r_order])),
        "subject_account_id": ids.take(pa.array(reviews.subject[r_order])),
        "rating": numbers(reviews.rating[r_order], pa.float64()),
        "created_at": timestamps(reviews.at_sec[r_order]),
    })
    playing = np.flatnonzero((roles.role >= 0) | (roles.collusive_group >= 0))
    schema = pa.schema([("account_id", pa.string()), ("client_role", pa.string()),
                        ("collusive_group", pa.int64())])
    roles_text = pa.array(list(CLIENT_ROLES) + ["none"], type=pa.string())
    role_codes = np.where(roles.role[playing] >= 0, roles.role[playing], len(CLIENT_ROLES))
    write_whole(out_dir, "collaborators", {
        "account_id": ids.take(pa.array(playing)),
        "client_role": roles_text.take(pa.array(role_codes)),
        "collusive_group": pa.array(roles.collusive_group[playing], type=pa.int64()),
    }, schema)
    return rows
