"""Decisions as contract ``labels`` rows, merged with the marketplace's own labels.

``confirmed_fronting`` becomes label 1 and ``cleared`` label 0 (source ``review``);
``escalated`` and ``needs_info`` are not labels. :func:`overlay_decisions` puts the merged
rows in a temporary ``labels`` table on a DuckDB connection (it shadows the loaded table
for that connection only; the loaded folder is never changed), so training, features and
evidence read reviewer decisions with no extra step.

Point in time: every reader of ``labels`` keeps rows decided before its as-of T, and per
account the latest of them wins, wherever it came from. A reviewer's later decision
overrides an earlier marketplace label and a later marketplace label overrides an earlier
decision; at the very same time, label 1 wins (the rule of
:func:`~accountrisk.training.dataset.latest_decisions`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from .store import Decision, DecisionStore, DuckDBDecisionStore, open_store

SOURCE = "review"
LABEL_SCHEMA = pa.schema([("account_id", pa.string()), ("label", pa.int8()),
                          ("decided_at", pa.timestamp("us")), ("source", pa.string())])


def decision_labels(decisions: list[Decision]) -> pa.Table:
    """The label-bearing decisions as contract ``labels`` rows."""
    rows = [{"account_id": d.account_id, "label": d.label, "decided_at": d.decided_at,
             "source": SOURCE} for d in decisions if d.label is not None]
    return pa.Table.from_pylist(rows, schema=LABEL_SCHEMA)


def _as_labels(table: pa.Table) -> pa.Table:
    """Loaded ``labels`` rows in :data:`LABEL_SCHEMA` (times naive UTC)."""
    decided = table.column("decided_at")
    if getattr(decided.type, "tz", None) is not None:
        decided = decided.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
    return pa.table({"account_id": table.column("account_id").cast(pa.string()),
                     "label": table.column("label").cast(pa.int8()),
                     "decided_at": decided.cast(pa.timestamp("us")),
                     "source": table.column("source").cast(pa.string())}, schema=LABEL_SCHEMA)


def _has_store(store: DecisionStore) -> bool:
    return not isinstance(store, DuckDBDecisionStore) or store.path.exists()


def overlay_decisions(engine: Any, workdir: str | Path | None = None, *,
                      store: DecisionStore | None = None) -> int:
    """Merge the store's decisions into ``labels`` on a DuckDB ``engine`` (see the module
    doc); return how many decision labels were added (0: nothing changed)."""
    store = store or open_store(workdir if workdir is not None else ".")
    if not _has_store(store):
        return 0
    rows = decision_labels(store.read())
    if rows.num_rows == 0:
        return 0
    con = getattr(engine, "con", None)
    if con is None:  # another engine (Spark): the merged rows replace its labels view
        if "labels" in engine.tables():
            own = engine.arrow("SELECT account_id, label, decided_at, source FROM labels")
            rows = pa.concat_tables([_as_labels(own), rows])
        engine.create_table_from_arrow("labels", rows)
        return rows.num_rows
    catalog = con.execute("SELECT current_database()").fetchall()[0][0]
    loaded = "labels" in engine.tables()
    con.register("_review_decision_labels", rows)
    try:
        own = (f'SELECT account_id, CAST(label AS TINYINT) AS label, decided_at, '
               f'CAST(source AS VARCHAR) AS source FROM "{catalog}".main.labels UNION ALL '
               if loaded else "")
        con.execute(f"CREATE OR REPLACE TEMP TABLE labels AS {own}SELECT account_id, label, "
                    "decided_at, source FROM _review_decision_labels")
    finally:
        con.unregister("_review_decision_labels")
    overlaid = getattr(engine, "overlaid", None)
    if overlaid is not None:
        overlaid.add("labels")
    return rows.num_rows
