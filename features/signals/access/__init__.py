"""The access family: how accounts reach the marketplace, and who they share it with.

- :mod:`.links`: laptop-farm and facilitator traces in login sessions (shared home IPs and
  devices, remote-desktop tools, anonymizers), and the ``access_account_pairs`` helper
  table the identity graph reads;
- :mod:`.routes`: tunnelled sessions, a usual login country abroad and IP-country churn
  (each from the account's own sessions);
- :mod:`.evidence`: the accounts, IPs and devices behind the reasons.
"""

from __future__ import annotations

from ...registry import Family
from .evidence import access_evidence
from .links import (
                    ANONYMIZER_IP_TYPES,
                    HUB_ACCOUNTS,
                    HUB_IP_TYPES,
                    IP_ACCOUNTS_TABLE,
                    IP_OVERLAP_DAYS,
                    LINKING_IP_TYPES,
                    access_links,
)
from .routes import session_routes

__all__ = ["ANONYMIZER_IP_TYPES", "FAMILY", "HUB_ACCOUNTS", "HUB_IP_TYPES",
           "IP_ACCOUNTS_TABLE", "IP_OVERLAP_DAYS", "LINKING_IP_TYPES", "access_links",
           "session_routes"]

FAMILY = Family("access", stages=(access_links, session_routes), evidence=access_evidence)
