"""The access family: how accounts reach the marketplace, and who they share it with.

- :mod:`.links`: laptop-farm and facilitator traces in login sessions (shared home IPs and
  devices, remote-desktop tools, anonymizers, IP-country churn), and the
  ``access_account_pairs`` helper table the identity graph reads;
- :mod:`.routes`: tunnelled sessions and a usual login country abroad.
"""

from __future__ import annotations

from ...registry import Family
from .links import (ANONYMIZER_IP_TYPES, HUB_ACCOUNTS, HUB_IP_TYPES, IP_ACCOUNTS_TABLE,
                    IP_OVERLAP_DAYS, LINKING_IP_TYPES, access_links, anonymizer_session_ratio,
                    device_shared_account_count, hosting_session_ratio, hub_ip_session_ratio,
                    ip_country_change_per_30d_ratio, ip_country_distinct_count,
                    remote_access_session_ratio, residential_ip_shared_account_count,
                    session_count, shared_access_confirmed_account_count)
from .routes import is_usual_ip_country_abroad, routed_session_ratio, session_routes

__all__ = ["ANONYMIZER_IP_TYPES", "FAMILY", "HUB_ACCOUNTS", "HUB_IP_TYPES",
           "IP_ACCOUNTS_TABLE", "IP_OVERLAP_DAYS", "LINKING_IP_TYPES", "access_links",
           "session_routes"]

FAMILY = Family(
    "access",
    stages=(access_links, session_routes),
    features=(residential_ip_shared_account_count, device_shared_account_count,
              shared_access_confirmed_account_count, remote_access_session_ratio,
              anonymizer_session_ratio, hosting_session_ratio, hub_ip_session_ratio,
              ip_country_distinct_count, ip_country_change_per_30d_ratio, session_count,
              routed_session_ratio, is_usual_ip_country_abroad),
)
