"""Whether an export's decisions are a random sample of its accounts, and what follows.

In an export stamped with one date the trees learn from rows read before the instant, where
no neighbour is decided yet (:mod:`.dataset`): on a marketplace whose reviews follow
investigations, accounts decided together (a ring banned at once) see one another decided
far more often than an account scored later sees its decided neighbours, and trees trained
just after the instant learn that. Some exports are not like that: the decisions are a
random share of the accounts (a platform that reviews a sample, or a benchmark that hides
the labels of a random part of a public graph). There an account scored later sees its
neighbours decided as often as a decided one did, and the neighbours' decisions are signal
the trees should see (on `benchmarks/review_graph.py` seed 1: PR-AUC 0.726 read before the
instant, 0.754 just after it; the quick reference with the decided neighbours' share 0.751).

The test reads the rows just after the instant (``TrainingSet.after_instant``): per
relation, the mean share of neighbours decided (confirmed or cleared) for the decided
accounts and for the unlabelled accounts sampled with them. Where every relation compared
gives the two within :data:`RANDOM_SHARE_TOLERANCE` of each other, the decisions look like a
random sample. Generated marketplaces, whose decisions follow investigations, give ratios of
1.3 to 7.7 on their identity relations; random shares of a graph 0.99 to 1.00.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..features.signals.neighbours.naming import PREFIX, relation_of
from .rules import RULES

RANDOM_SHARE_TOLERANCE = 0.1  # |decided's share / unlabelled's share - 1| at most this
MIN_COMPARED = 50  # accounts with neighbours needed in each group for a relation to count


def _relations(columns: list[str]) -> list[str]:
    """Relations whose shares of confirmed and cleared neighbours are among ``columns``."""
    present = set(columns)
    found = {r for c in columns if (r := relation_of(c)) is not None}
    return sorted(r for r in found if {f"{PREFIX}{r}_confirmed_ratio",
                                       f"{PREFIX}{r}_cleared_ratio"} <= present)


def decisions_look_random(after: pa.Table, decided: np.ndarray) -> tuple[bool, str]:
    """Whether, just after the instant, decided accounts (``decided``: a mask over the rows
    of ``after``) see their neighbours decided as often as the unlabelled ones sampled with
    them, on every relation with enough accounts to tell; and a sentence saying so."""
    compared = []
    for relation in _relations(after.column_names):
        share = np.asarray(pc.add(after.column(f"{PREFIX}{relation}_confirmed_ratio"),
                                  after.column(f"{PREFIX}{relation}_cleared_ratio"))
                           .to_numpy(zero_copy_only=False), dtype=float)
        known = ~np.isnan(share)
        mine, others = share[known & decided], share[known & ~decided]
        if min(len(mine), len(others)) < MIN_COMPARED or others.mean() <= 0:
            continue
        compared.append((relation, mine.mean() / others.mean()))
    if not compared:
        return False, "no relation has enough decided and unlabelled accounts with neighbours"
    ratios = ", ".join(f"{r} {x:.2f}" for r, x in compared)
    random = all(abs(x - 1) <= RANDOM_SHARE_TOLERANCE for _, x in compared)
    return random, (f"decided accounts see their neighbours decided {ratios} times as often "
                    "as the unlabelled ones")


def _keys(table: pa.Table) -> pa.Array:
    """Each row's account and ``_snapshot`` as one string (Arrow's, not a Python object a
    row: on millions of rows those weighed half a gigabyte)."""
    snapshot = pc.cast(pc.cast(table.column("_snapshot"), pa.int64()), pa.string())
    account = pc.cast(table.column("account_id"), pa.string())  # large or dictionary too
    return pc.binary_join_element_wise(account, snapshot, "\x1f")


def positions_in(rows: pa.Table, after: pa.Table) -> np.ndarray:
    """Each row's position in ``after`` (same account and ``_snapshot``; -1 where none)."""
    found = pc.index_in(_keys(rows), value_set=_keys(after))
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def as_scored(rows: pa.Table, after: pa.Table | None,
              values: Callable[[pa.Table], np.ndarray]) -> np.ndarray:
    """``values`` of each row of ``rows`` as the account shows it when scored: taken from
    its row just after the instant (same account and ``_snapshot``) where ``after`` has
    one, since the rows before the instant see no neighbour decided yet."""
    mine = values(rows)
    if after is None or after.num_rows == 0:
        return mine
    position = positions_in(rows, after)
    return np.where(position >= 0, values(after)[np.maximum(position, 0)], mine)


def flag_columns(after: pa.Table) -> pa.Table:
    """The rows just after an instant cut to their keys and the columns a red flag reads:
    all that is judged on them once the trees' rows are settled (:mod:`.selection`)."""
    read = {c for rule in RULES for c in rule.columns(after.column_names)}
    return after.select([c for c in after.column_names
                         if c in read or c in ("account_id", "_snapshot")])


def trained_after_instant(rows: pa.Table, after: pa.Table) -> pa.Table:
    """``rows`` with the features of every row also read just after the instant (same
    account and ``_snapshot``) taken from there; meta columns (``_*``) stay."""
    position = positions_in(rows, after)
    found = pa.array(position >= 0)
    take = pa.array(np.maximum(position, 0))
    for name in rows.column_names:
        if name.startswith("_") or name == "account_id" or name not in after.column_names:
            continue
        swapped = pc.if_else(found, after.column(name).take(take), rows.column(name))
        rows = rows.set_column(rows.column_names.index(name), name, swapped)
    return rows


def where_trees_read(pieces: list[pa.Table], after: pa.Table, decided_ids: np.ndarray,
                     say: Callable[[str], None]) -> tuple[pa.Table, int]:
    """The rows the trees learn from in an export stamped with one date: those before the
    instant (``pieces``, concatenated), or (decisions that look like a random sample of
    the accounts) those just after it (above); and 1 when after it. ``pieces`` is emptied:
    each piece is let go as soon as it is read, so that an export of millions holds its
    rows once, not twice (1.9 GB on 1.5 million rows)."""
    # Arrow's hash lookup: np.isin compares object arrays element by element (n x m).
    decided = pc.is_in(after.column("account_id"), value_set=pa.array(decided_ids, pa.string()))
    random, why = decisions_look_random(after, decided.to_numpy(zero_copy_only=False))
    if not random:
        say(f"the trees learn from the rows before the instant ({why})")
        rows = pa.concat_tables(pieces)
        pieces.clear()
        return rows, 0
    say(f"the decisions look like a random sample of the accounts ({why}): the trees learn "
        "from the rows just after the instant, where each account sees the decisions "
        "around it as an account scored later will")
    swapped = []
    while pieces:  # popped, so that a piece's old columns go as each is swapped
        swapped.append(trained_after_instant(pieces.pop(0), after))
    return pa.concat_tables(swapped), 1
