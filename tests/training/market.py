"""A small hand-made marketplace for training tests: a few hundred accounts, fast to load.

Fronted accounts have a low marketplace test score (``attr_test_score``, which no rule
reads) and sometimes a remote-desktop tool; the legit accounts reviewers looked at often
use a VPN (so the rules flag them). A model can learn the score; the rules cannot.
Confirmed accounts go quiet after their decision (unless ``bans_stop=False``: labels that
annotate accounts which went on working).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tests.conftest import make_tables

START = datetime(2024, 6, 1)
FIRST_DECISION = datetime(2025, 1, 1)
AS_OF = datetime(2025, 12, 1)


def small_market(seed: int = 0, accounts: int = 400, fronted_share: float = 0.25,
                 labels: bool = True, flip: bool = False, bans_stop: bool = True
                 ) -> dict[str, pa.Table]:
    """Contract tables of a small marketplace. ``flip`` inverts the score signal (a data
    set on which a model learns the wrong thing)."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[dict]] = {"accounts": [], "sessions": [], "labels": [],
                                   "account_attributes": [], "activity": []}
    for i in range(accounts):
        a = f"acct{i:04d}"
        fronted = rng.random() < fronted_share
        created = START + timedelta(days=float(rng.uniform(0, 200)))
        decided = None
        label = None
        if fronted and rng.random() < 0.85:
            decided, label = FIRST_DECISION + timedelta(days=float(rng.uniform(0, 320))), 1
        elif not fronted and rng.random() < 0.3:
            decided, label = FIRST_DECISION + timedelta(days=float(rng.uniform(0, 320))), 0
        if decided is not None:
            rows["labels"].append({"account_id": a, "label": label, "decided_at": decided})
        rows["accounts"].append({"account_id": a, "created_at": created})
        good = fronted != flip
        score = rng.normal(40, 12) if good else rng.normal(70, 12)
        rows["account_attributes"].append({"account_id": a, "test_score": float(score),
                                           "tier": str(rng.choice(["basic", "plus", "pro"]))})
        vpn = (label == 0 and rng.random() < 0.6) or rng.random() < 0.1
        remote = fronted and rng.random() < 0.3
        end = decided if label == 1 and bans_stop else AS_OF
        day = created + timedelta(days=1)
        while day < end:
            rows["sessions"].append({
                "account_id": a, "started_at": day, "ip_token": f"ip-{a}",
                "ip_type": "vpn" if vpn and rng.random() < 0.7 else "residential",
                "ip_country": "US", "remote_access_tool": "anydesk" if remote else None})
            rows["activity"].append({"account_id": a, "ts": day + timedelta(hours=2)})
            day += timedelta(days=float(rng.uniform(5, 12)))
    if not labels:
        rows.pop("labels")
    attributes = rows.pop("account_attributes")
    tables = make_tables(**rows)
    tables["account_attributes"] = pa.Table.from_pylist(attributes)
    return tables


def write_folder(tables: dict[str, pa.Table], folder: Path) -> Path:
    """Write contract tables as a data folder of Parquet files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")
    return folder
