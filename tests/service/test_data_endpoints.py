"""/v1/accounts/{id}, its report and /v1/queue over real HTTP: the same results as
`accountrisk explain` and `accountrisk queue`; 404 and 503 with clear messages."""

from __future__ import annotations

import httpx
import pyarrow.parquet as pq
from typer.testing import CliRunner

from accountrisk.plugin.cli import app as cli
from accountrisk.scoring.models import AccountScore
from tests.service.conftest import API_KEY, T, make_app, serving


def _cli(*args):
    done = CliRunner().invoke(cli, [str(a) for a in args])
    assert done.exit_code == 0, done.output
    return done.stdout


def test_account_equals_explain_json(client, trained):
    answer = client.get("/v1/accounts/acct0021", params={"as_of": T})
    assert answer.status_code == 200, answer.text
    got = AccountScore.model_validate(answer.json())
    printed = _cli("explain", trained["data"], "acct0021", "--model", trained["model"],
                   "--as-of", T, "--json", "--workdir", trained["work"])
    assert got == AccountScore.model_validate_json(printed)
    assert got.reasons and any(r.evidence != r.evidence.__class__() for r in got.reasons)
    # the service's default as-of (--as-of) is used without the parameter
    assert AccountScore.model_validate(client.get("/v1/accounts/acct0021").json()) == got


def test_unknown_account_is_404_naming_it(client):
    answer = client.get("/v1/accounts/nobody-here", params={"as_of": T})
    assert answer.status_code == 404
    assert "'nobody-here'" in answer.json()["error"] and answer.json()["fix"]
    early = client.get("/v1/accounts/acct0021", params={"as_of": "2020-01-01"})
    assert early.status_code == 404


def test_report_is_the_case_report_html(client, trained, tmp_path):
    answer = client.get("/v1/accounts/acct0021/report", params={"as_of": T})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    html = tmp_path / "case.html"
    _cli("explain", trained["data"], "acct0021", "--model", trained["model"], "--as-of", T,
         "--html", html, "--workdir", trained["work"])
    assert answer.text == html.read_text(encoding="utf-8")


def test_queue_is_the_queue_commands_order(client, trained, tmp_path):
    answer = client.get("/v1/queue", params={"as_of": T, "band": "elevated", "limit": 4})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    _cli("queue", trained["data"], "--model", trained["model"], "--as-of", T, "--band",
         "elevated", "--out", tmp_path / "queue", "--workdir", trained["work"])
    written = pq.read_table(tmp_path / "queue" / "queue.parquet")
    assert body["band"] == "elevated" and body["total_count"] == written.num_rows
    ids = [s["account_id"] for s in body["scores"]]
    assert ids == written.column("account_id").to_pylist()[:4]
    assert all(s["reasons"] for s in body["scores"])
    assert [s["score"] for s in body["scores"]] == written.column("score").to_pylist()[:4]


def test_queue_rejects_unknown_band_and_bad_limit(client):
    band = client.get("/v1/queue", params={"band": "urgent"})
    assert band.status_code == 422 and "high, elevated" in band.json()["fix"]
    limit = client.get("/v1/queue", params={"limit": "many"})
    assert limit.status_code == 422 and "query parameter limit" in limit.json()["error"]
    missing = client.get("/v1/accounts/acct0021", params={"as_of": "someday"})
    assert missing.status_code == 422 and "as_of" in missing.json()["error"]


def test_without_data_account_endpoints_are_503(trained):
    with serving(make_app(trained["model"])) as url:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        for path in ("/v1/accounts/acct0021", "/v1/accounts/acct0021/report", "/v1/queue"):
            answer = httpx.get(url + path, params={"as_of": T}, headers=headers)
            assert answer.status_code == 503
            assert "--data" in answer.json()["fix"]
        assert httpx.get(url + "/readyz").json()["data"] is None
