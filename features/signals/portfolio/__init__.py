"""The portfolio family: the same work and the same face shown by several accounts.

- :mod:`.stages`: reused portfolio items (links, near-duplicate images and descriptions)
  and profile photos, and the ``portfolio_account_pairs`` helper table the identity graph
  and the neighbour aggregates read;
- :mod:`.evidence`: which items match whose, read from the kept helper tables or
  recomputed around the requested accounts (:mod:`.neighbourhood`).
"""

from __future__ import annotations

from ...registry import Family
from .evidence import KEPT_TABLES, portfolio_evidence
from .stages import (
                     LINK_KINDS,
                     PORTFOLIO_STAGES,
                     portfolio_matches,
                     portfolio_pair_edges,
                     profile_photo_matches,
)

__all__ = ["FAMILY", "LINK_KINDS", "portfolio_matches", "portfolio_pair_edges",
           "profile_photo_matches"]

FAMILY = Family("portfolio", stages=PORTFOLIO_STAGES, evidence=portfolio_evidence,
                kept_tables=KEPT_TABLES)
