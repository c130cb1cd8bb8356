"""A plain red-flag checklist, one point per flag: the baseline any rule score must beat.

Written from the public advisories on North Korean remote IT workers (FBI/State/Treasury
joint advisory of May 2022, FBI PSAs of October 2023 and January 2025) the way a trust-and-
safety team would write it on day one, on the product's feature columns: every flag is
"the sign was seen at all", one point each, no weights and no tuning on labels. A flag whose
column is missing (a thin export) cannot fire.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accountrisk.training.matrix import column, column_names

# (advisory wording, feature column, fires when the value is at least this)
FLAGS: tuple[tuple[str, str, float], ...] = (
    ("several accounts paid into one account", "payout_shared_account_count", 1),
    ("several accounts log in from one home IP address", "residential_ip_shared_account_count", 1),
    ("several accounts on one device", "device_shared_account_count", 1),
    ("remote desktop or KVM tools", "remote_access_session_ratio", 1e-9),
    ("VPN, proxy or Tor connections", "anonymizer_session_ratio", 1e-9),
    ("data-center (VPS) connections", "hosting_session_ratio", 1e-9),
    ("IP addresses outside the claimed country", "ip_country_mismatch_session_ratio", 1e-9),
    ("browser time zone unlike the claimed one", "browser_offset_mismatch_session_ratio", 1e-9),
    ("work at odd hours for the claimed location", "activity_claimed_night_ratio", 0.2),
    ("logins at odd hours for the claimed location", "session_claimed_night_ratio", 0.2),
    ("payouts in cryptocurrency", "payout_crypto_method_ratio", 1e-9),
    ("payout destination abroad", "payout_destination_mismatch_ratio", 1e-9),
    ("frequent changes of payment method", "payout_method_added_90d_count", 2),
    ("portfolio links reused across profiles", "portfolio_link_shared_account_count", 1),
    ("portfolio images reused across profiles", "portfolio_image_near_duplicate_account_count", 1),
    ("profile photo reused", "profile_photo_near_duplicate_account_count", 1),
)


def checklist_score(data: Any) -> np.ndarray:
    """Number of flags each feature row raises (0..len(FLAGS))."""
    names = set(column_names(data))
    rows = len(column(data, column_names(data)[0]))
    points = np.zeros(rows)
    for _, feature, threshold in FLAGS:
        if feature in names:
            values = column(data, feature)
            with np.errstate(invalid="ignore"):
                points += np.nan_to_num(values, nan=-np.inf) >= threshold
    return points
