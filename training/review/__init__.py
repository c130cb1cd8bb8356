"""The review loop's decisions: an append-only store, its ways in (one decision, a queue
CSV) and its ways out (contract ``labels`` rows, the history shown on case reports, the
queue's skip rule).

The HTTP service and a PostgreSQL store are wired by the integrator: the service calls
:func:`record_decision` and :func:`import_decisions_csv`; a PostgreSQL store implements
:class:`DecisionStore`.
"""

from __future__ import annotations

from .csv_import import ImportResult, import_decisions_csv
from .store import (
    DECISIONS,
    LABEL_OF,
    Decision,
    DecisionError,
    DecisionStore,
    DuckDBDecisionStore,
    open_store,
    record_decision,
)

__all__ = ["DECISIONS", "LABEL_OF", "Decision", "DecisionError", "DecisionStore",
           "DuckDBDecisionStore", "ImportResult", "import_decisions_csv", "open_store",
           "record_decision"]
