"""The API key (401s, constant-time check, never logged), /healthz, /readyz and /metrics,
over real HTTP."""

from __future__ import annotations

import logging

import httpx
import pytest

from accountrisk.features.errors import UsageError
from accountrisk.plugin.service.auth import ENV_KEY, resolve_key
from tests.service.conftest import API_KEY, T


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong-key"}, {"Authorization": f"Basic {API_KEY}"},
    {"Authorization": f"Bearer {API_KEY}x"}, {"Authorization": "Bearer"}])
@pytest.mark.parametrize("method,path", [
    ("GET", "/v1/model"), ("POST", "/v1/score"), ("GET", "/v1/accounts/acct0001"),
    ("GET", "/v1/accounts/acct0001/report"), ("GET", "/v1/queue"), ("GET", "/metrics")])
def test_without_the_key_every_endpoint_is_401(service_url, headers, method, path):
    answer = httpx.request(method, service_url + path, headers=headers,
                           json={"as_of": T, "rows": []} if method == "POST" else None)
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"] == "Bearer"
    assert set(answer.json()) == {"error", "fix"}
    assert API_KEY not in answer.text


def test_health_and_readiness_answer_without_a_key(service_url, trained):
    assert httpx.get(service_url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(service_url + "/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] is True and body["model_version"] == trained["model"].name
    assert body["reload"]["watching"] is False  # a model directory is not watched
    assert body["data"] == str(trained["data"])


def test_no_key_is_logged(service_url, caplog):
    with caplog.at_level(logging.DEBUG):
        httpx.get(service_url + "/v1/model", headers={"Authorization": f"Bearer {API_KEY}"})
        httpx.get(service_url + "/v1/model", headers={"Authorization": "Bearer not-it"})
    assert API_KEY not in caplog.text and "not-it" not in caplog.text


def test_metrics_count_requests_latency_bands_and_model(client, trained):
    rows = trained["features"].to_pylist()
    assert client.post("/v1/score", json={"as_of": T, "rows": rows}).status_code == 200
    client.get("/v1/accounts/nobody")
    text = client.get("/metrics").text
    assert 'accountrisk_http_requests_total{method="POST",route="/v1/score",status="200"}' \
        in text
    assert ('accountrisk_http_requests_total{method="GET",route="/v1/accounts/{account_id}",'
            'status="404"}') in text
    assert "nobody" not in text  # routes, not raw paths, are the labels
    assert 'accountrisk_http_request_duration_seconds_bucket{le="0.01",method="POST",' \
           'route="/v1/score"}' in text
    assert 'accountrisk_scores_total{band="none"}' in text
    assert (f'accountrisk_model_info{{feature_set_version="1",model_kind="model",'
            f'model_version="{trained["model"].name}"}} 1.0') in text
    assert "accountrisk_model_reload_failed 0.0" in text


def test_resolve_key_order_and_refusals(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_KEY, raising=False)
    with pytest.raises(UsageError, match="ACCOUNTRISK_API_KEY or give --api-key-file"):
        resolve_key(None)
    monkeypatch.setenv(ENV_KEY, " from-env \n")
    assert resolve_key(None) == "from-env"
    file = tmp_path / "key"
    file.write_text("from-file\n")
    assert resolve_key(file) == "from-file"
    file.write_text("  \n")
    with pytest.raises(UsageError, match="is empty"):
        resolve_key(file)
    with pytest.raises(UsageError, match="cannot be read"):
        resolve_key(tmp_path / "missing")
    assert resolve_key(None, no_auth=True) is None
