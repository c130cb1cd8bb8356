"""Synthetic marketplace generator: the test bed of every signal and of the model.

:func:`generate` writes a contract folder (in the default ``classic`` mode every table of
the data contract, exact schemas) plus ``ground_truth.parquet`` (who is fronted, by which
scheme, ring, facilitator and evasions; which honest accounts are hard look-alikes) and
``generation.json`` (parameters, row counts, counts per scheme/evasion/look-alike/label).
:data:`MODES` lists the worlds it can simulate (see :mod:`.modes`). Same arguments, same
bytes.
"""

from __future__ import annotations

from .generator import generate
from .modes import MODES

__all__ = ["MODES", "generate"]
