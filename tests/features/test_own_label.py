"""An account's own decision never reaches its own features, whatever the signal.

In an export stamped with one date, training reads the decided accounts just after their
instant to judge the red flags (training/dataset.py): the decision is then in the labels
table the features read, and only this law keeps it out of the account's own row. Seeded
generated marketplaces: every column of a decided account's row is the same with its
decisions and without them, while a neighbour's row moves.
"""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_tables
from accountrisk.features.pipeline import build_features
from tests.features.golden import AS_OF, END, generate_marketplace

LINK_COUNTS = ("direct_link_account_count", "nbr_co_worked_account_count",
               "nbr_payout_account_count")


def _features(tables: dict[str, pa.Table]) -> dict[str, dict]:
    with DuckDBEngine() as engine:
        assert load_tables(tables, engine, now=END).usable
        return {r["account_id"]: r for r in build_features(engine, AS_OF).to_pylist()}


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12)
    return a == b


def _linked_decided(tables: dict[str, pa.Table], rows: dict[str, dict], label: int) -> str:
    """The decided account (latest decision ``label`` before T) with the most links."""
    latest: dict[str, tuple] = {}
    for d in tables["labels"].to_pylist():
        if str(d["decided_at"]) < AS_OF:
            latest[d["account_id"]] = max(latest.get(d["account_id"], (d["decided_at"], -1)),
                                          (d["decided_at"], d["label"]))
    chosen = [a for a, (_, got) in latest.items() if got == label and a in rows]

    def links(account: str) -> float:
        return sum(rows[account].get(c) or 0 for c in LINK_COUNTS)
    best = max(chosen, key=links)
    assert links(best) > 0
    return best


@pytest.mark.parametrize("marketplace", ["classic", "platform"])
def test_an_account_s_own_decision_never_reaches_its_own_row(tmp_path, marketplace):
    folder = generate_marketplace(tmp_path / marketplace, marketplace)
    tables = {p.stem: pq.read_table(p) for p in folder.glob("*.parquet")
              if p.stem != "ground_truth"}
    rows = _features(tables)
    moved_somewhere = False
    for label in (1, 0):
        account = _linked_decided(tables, rows, label)
        labels = tables["labels"]
        kept = labels.filter(pa.compute.not_equal(labels.column("account_id"), account))
        without = _features({**tables, "labels": kept})
        differing = [c for c in rows[account] if not _same(rows[account][c], without[account][c])]
        assert not differing, (marketplace, account, differing)
        moved_somewhere |= any(not _same(rows[a][c], without[a][c])
                               for a in rows if a != account for c in rows[a])
    assert moved_somewhere  # the decisions do reach other accounts' rows
