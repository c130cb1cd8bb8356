"""The client side (contract 1.1): self-dealing and client concentration (``contracts``),
proposal templates (``proposals``) and rating rings (``reviews``). Each stage needs its
table; a 1.0 folder leaves these features missing (NULL) and everything else unchanged."""

from ...registry import Family
from .contracts import CONTRACT_FEATURES, client_contracts
from .evidence import KEPT_TABLES, client_side_evidence
from .proposals import PROPOSAL_FEATURES, proposal_templates
from .reviews import REVIEW_FEATURES, rating_rings

__all__ = ["CONTRACT_FEATURES", "FAMILY", "PROPOSAL_FEATURES", "REVIEW_FEATURES"]

FAMILY = Family("client_side", stages=(client_contracts, proposal_templates, rating_rings),
                evidence=client_side_evidence, kept_tables=KEPT_TABLES)
