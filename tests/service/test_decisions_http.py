"""POST /v1/decisions over real HTTP: the decision is stored with the score the service
shows, and the next load of the work directory reads it as a label."""

from __future__ import annotations

import httpx

from accountrisk.features.engines import open_engine
from accountrisk.training.review.store import open_store
from tests.service.conftest import API_KEY, AS_OF, make_app, serving


def test_a_decision_posted_becomes_a_label(trained, tmp_path):
    work = tmp_path / "work"  # its own store: the shared service's queue stays as it is
    app = make_app(trained["model"], data=trained["data"], work=work, as_of=AS_OF)
    with serving(app) as url, httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60) as c:
        sent = c.post("/v1/decisions", json={
            "account_id": "acct0021", "decision": "confirmed_fronting", "reviewer": "r.lee",
            "note": "shares a payout account", "decided_at": "2026-01-01T00:00:00"})
        assert sent.status_code == 201, sent.text
        body = sent.json()
        assert body["reviewer"] == "r.lee" and body["source"] == "http"
        assert body["model_version"] and body["score"] is not None
        wrong = c.post("/v1/decisions", json={"account_id": "acct0021", "decision": "banned",
                                              "reviewer": "r.lee"})
        assert wrong.status_code == 422 and "decision" in wrong.text
        unknown = c.post("/v1/decisions", json={"account_id": "nobody",
                                                "decision": "cleared", "reviewer": "r.lee"})
        assert unknown.status_code == 404 and "nobody" in unknown.text
        no_key = httpx.post(f"{url}/v1/decisions", json={
            "account_id": "acct0021", "decision": "cleared", "reviewer": "x"})
        assert no_key.status_code == 401
    stored = open_store(work).read()
    assert [(d.account_id, d.decision) for d in stored] == [("acct0021", "confirmed_fronting")]
    with open_engine("duckdb", data_dir=trained["data"], workdir=work) as engine:
        labels = engine.con.execute(
            "SELECT label, source FROM labels WHERE account_id = 'acct0021' "
            "ORDER BY decided_at DESC LIMIT 1").fetchall()
    assert labels == [(1, "review")]
