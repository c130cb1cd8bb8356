"""The one place LightGBM is imported: OpenMP told to sleep, not spin, while it waits.

LightGBM's OpenMP threads busy-wait between parallel regions by default. On a machine
whose cores something else also uses (a DuckDB or Spark job, a web server, another fit) a
2-thread fit of 12,000 rows x 350 features, 400 trees, took 38-54 s instead of 7 s
(`OMP_WAIT_POLICY=PASSIVE`) or 6 s (one thread), measured on the project machine. The
policy is read when the OpenMP runtime starts, so it is set before the first import; a
value the user set wins, and a host that imported LightGBM first keeps its own.
"""

from __future__ import annotations

import os
from types import ModuleType


def lightgbm() -> ModuleType:
    """The ``lightgbm`` module, imported with a passive OpenMP wait policy."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import lightgbm as lgb

    return lgb
