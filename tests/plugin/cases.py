"""A case whose marketplace text is hostile, scored through the real pipeline and evidence."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_tables
from accountrisk.features.registry import FEATURES
from accountrisk.plugin.report_files import case_inputs, write_reports
from accountrisk.scoring.evidence import build_features_for_evidence, collect_evidence
from accountrisk.scoring.models import AccountScore, Reason
from accountrisk.training.predict import render_reason
from tests.conftest import NOW, make_tables

HOSTILE = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
HOSTILE_ID = "acct\"><script>document.title='pwned'</script>"
HOSTILE_KIND = "<svg onload=\"document.title='pwned'\">"
AS_OF = datetime(2025, 12, 1)
CONTRIBUTIONS = {
    "payout_shared_account_count": 1.4,
    "portfolio_link_shared_account_count": 0.9,
    "activity_claimed_night_ratio": 0.8,
    "link_group_account_count": 0.5,
    "account_age_days": -0.3,
}


def hostile_tables():
    night = [{"account_id": HOSTILE_ID, "ts": datetime(2025, 6, d, h)}
             for d in range(1, 20) for h in (6, 7, 8, 9)]  # 02:00-05:00 in New York
    return make_tables(
        accounts=[{"account_id": HOSTILE_ID, "display_name": HOSTILE,
                   "profile_photo_phash": "0f0f0f0f0f0f0f0f"},
                  {"account_id": "mate", "display_name": HOSTILE}],
        payout_methods=[{"account_id": HOSTILE_ID, "payout_token": "3f9a77aa88bb99cc"},
                        {"account_id": "mate", "payout_token": "3f9a77aa88bb99cc"},
                        {"account_id": "boss", "payout_token": "3f9a77aa88bb99cc"}],
        payouts=[{"account_id": HOSTILE_ID, "payout_token": "3f9a77aa88bb99cc",
                  "paid_at": datetime(2025, 7, 1)}],
        sessions=[{"account_id": HOSTILE_ID, "ip_token": "ip-aaaa1111", "device_token": "dev-1",
                   "started_at": datetime(2025, 5, 1)},
                  {"account_id": HOSTILE_ID, "ip_token": "ip-aaaa1111", "device_token": "dev-1",
                   "started_at": datetime(2025, 9, 1)}],
        activity=night,
        portfolio_items=[
            {"account_id": HOSTILE_ID, "item_id": "item<b>1</b>", "title": HOSTILE,
             "url": "https://example.com/p/\"><script>document.title='pwned'</script>",
             "added_at": datetime(2025, 5, 1)},
            {"account_id": "mate", "item_id": "item2", "title": HOSTILE,
             "url": "example.com/p/\"><script>document.title='pwned'</script>"}],
        account_links=[{"account_id": "mate", "other_account_id": "friend", "kind": HOSTILE_KIND}],
        labels=[{"account_id": "boss", "decided_at": datetime(2025, 4, 1)}],
    )


def hostile_case(folder: Path) -> tuple[AccountScore, Path, Path]:
    """Write the queue for the hostile account and its mate; returns the hostile score and
    the paths of its case file and the index."""
    with DuckDBEngine() as engine:
        assert load_tables(hostile_tables(), engine, now=NOW).usable
        rows = {r["account_id"]: r for r in build_features_for_evidence(engine, AS_OF).to_pylist()}
        evidence = collect_evidence(engine, AS_OF, [HOSTILE_ID, "mate"], list(CONTRIBUTIONS))
        scores = []
        for account, score, band in ((HOSTILE_ID, 0.91, "high"), ("mate", 0.03, "watch")):
            reasons = [Reason(feature=f, value=rows[account][f], contribution_log_odds=c,
                              contribution_probability=c / 10,
                              sentence=render_reason(FEATURES[f].reason, rows[account][f],
                                                     {"claimed_timezone": "America/New_York"}, f),
                              direction="raises" if c > 0 else "lowers",
                              evidence=evidence[account][f])
                       for f, c in CONTRIBUTIONS.items()]
            scores.append(AccountScore(account_id=account, score=score, band=band,
                                       reasons=reasons, model_version="7", as_of=AS_OF,
                                       feature_set_version="1", raw_log_odds=1.2))
        files = write_reports(folder, scores, engine=engine, expected_log_odds=-3.1)
        assert case_inputs(engine, AS_OF, HOSTILE_ID)["ring"] is not None
    return scores[0], files.cases[HOSTILE_ID], files.index
