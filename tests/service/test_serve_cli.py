"""`accountrisk serve` as a user runs it: a real process on a loopback port; it refuses to
start without a key, warns loudly with --no-auth, and fails clearly on a bad model."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from accountrisk.scoring.models import AccountScore
from accountrisk.scoring.scorer import RiskScorer
from tests.service.conftest import T

WAIT_S = 120.0
CLI = Path(sys.executable).parent / "accountrisk"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ACCOUNTRISK_API_KEY"}
    return {**env, **extra}


def _wait_ready(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + WAIT_S
    while True:
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)


def _scored_by_worker(metrics_dir: Path) -> dict[str, float]:
    """``/v1/score`` requests each worker counted, read from its own counter file."""
    counts = {}
    for path in metrics_dir.glob("counter_*.db"):
        samples = [s for metric in MultiProcessCollector.merge([str(path)])
                   for s in metric.samples if s.name == "accountrisk_http_requests_total"
                   and s.labels.get("route") == "/v1/score"]
        counts[path.stem.rsplit("_", 1)[-1]] = sum(s.value for s in samples)
    return counts


@pytest.fixture(scope="module")
def cli():
    if not CLI.exists():
        pytest.skip("the accountrisk command is not installed beside this Python")
    return str(CLI)


def test_serve_over_the_real_command(cli, trained, tmp_path):
    key_file = tmp_path / "api-key"
    key_file.write_text("cli-key-3b1f7c\n")
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [cli, "serve", "--model", str(trained["model"]), "--data", str(trained["data"]),
             "--workdir", str(trained["work"]), "--as-of", T, "--port", str(port),
             "--api-key-file", str(key_file)],
            stdout=out, stderr=subprocess.STDOUT, env=_env(), cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, url, log)
        headers = {"Authorization": "Bearer cli-key-3b1f7c"}
        rows = trained["features"].slice(0, 5)
        answer = httpx.post(url + "/v1/score", json={"as_of": T, "rows": rows.to_pylist()},
                            headers=headers, timeout=60)
        assert answer.status_code == 200, answer.text
        expected = RiskScorer.load(trained["model"]).score_features(rows, as_of=T)
        assert [AccountScore.model_validate(s) for s in answer.json()["scores"]] == \
            expected.scores
        assert httpx.post(url + "/v1/score", json={"as_of": T, "rows": []}).status_code == 401
        account = httpx.get(url + "/v1/accounts/acct0021", headers=headers, timeout=60)
        assert account.status_code == 200 and account.json()["account_id"] == "acct0021"
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "cli-key-3b1f7c" not in log.read_text()


def test_several_workers_answer_on_one_port_and_count_together(cli, trained, tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [cli, "serve", "--model", str(trained["model"]), "--port", str(port),
             "--workers", "2", "--reload-seconds", "0"], stdout=out,
            stderr=subprocess.STDOUT, cwd=tmp_path,
            env=_env(ACCOUNTRISK_API_KEY="workers-key-9d2e",
                     PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)))
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": "Bearer workers-key-9d2e"}
    rows = trained["features"].slice(0, 3)
    expected = RiskScorer.load(trained["model"]).score_features(rows, as_of=T).scores
    try:
        _wait_ready(process, url, log)
        deadline = time.monotonic() + WAIT_S  # both workers up: each labels its model
        while len(list(metrics_dir.glob("gauge_max_*.db"))) < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)

        def score(_: int) -> list[AccountScore]:
            answer = httpx.post(url + "/v1/score", json={"as_of": T, "rows": rows.to_pylist()},
                                headers=headers, timeout=60)
            assert answer.status_code == 200, answer.text
            return [AccountScore.model_validate(s) for s in answer.json()["scores"]]

        # Which worker accepts a connection is the kernel's choice: one worker may take every
        # request of a round, so rounds go on until both have scored some, and the total is
        # checked over all of them.
        sent = 0
        with ThreadPoolExecutor(8) as pool:
            while len([n for n in _scored_by_worker(metrics_dir).values() if n > 0]) < 2:
                assert time.monotonic() < deadline, "one worker answered every request"
                assert all(got == expected for got in pool.map(score, range(40)))
                sent += 40
        exposition = httpx.get(url + "/metrics", headers=headers, timeout=30).text
        answered = sum(float(line.rsplit(" ", 1)[1]) for line in exposition.splitlines()
                       if line.startswith("accountrisk_http_requests_total{")
                       and 'route="/v1/score"' in line)
        assert answered == sent, exposition  # every worker's requests, whichever answered
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "workers-key-9d2e" not in log.read_text()


def test_several_workers_refuse_contract_data(cli, trained):
    done = subprocess.run([cli, "serve", "--no-auth", "--workers", "2", "--model",
                           str(trained["model"]), "--data", str(trained["data"])],
                          capture_output=True, text=True, env=_env(), timeout=120)
    output = " ".join((done.stdout + done.stderr).split())  # the console wraps lines
    assert done.returncode == 1
    assert "--workers 2 with --data" in output and "one DuckDB work directory" in output
    assert "Traceback" not in output


def test_serve_refuses_to_start_without_a_key(cli, trained):
    done = subprocess.run([cli, "serve", "--model", str(trained["model"])],
                          capture_output=True, text=True, env=_env(), timeout=120)
    assert done.returncode == 1
    assert "no API key" in done.stdout + done.stderr
    assert "ACCOUNTRISK_API_KEY" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_no_auth_warns_loudly_and_a_missing_model_fails_clearly(cli, tmp_path):
    done = subprocess.run([cli, "serve", "--no-auth", "--model", str(tmp_path / "none")],
                          capture_output=True, text=True, env=_env(), timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert "WARNING: --no-auth" in output
    assert "no model at" in output and "Traceback" not in output
