"""HTTP service benchmark: `accountrisk serve` in its own process against RiskScorer in
process, single-account and 1,000-row requests, 1, 8 and 32 concurrent clients.

    python benchmarks/service.py [--accounts 20000] [--model DIR] [--seconds 5] [--workers 1 2]

Without ``--model`` trains a quick model on a generated 20k marketplace (cached under
``bench-data/``, shared with benchmarks/scoring.py); request rows are that marketplace's
feature rows. The clients are asyncio tasks in this process, each on its own keep-alive
connection, writing prepared HTTP/1.1 requests (the client costs little of the shared
CPU). Single-account requests ask reasons for their account (``explain`` true); batches
ask them for the accounts in a review band (``explain`` "banded"), as a backend would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _data import ensure_data  # benchmarks/ is on sys.path when run as a script

AS_OF = "2026-10-01"
ARROW = "application/vnd.apache.arrow.stream"
GOALS = {"single_p99_ms_at_8": 20.0, "batch_ratio": 0.5}
KEY = "bench-key-not-secret"


def _model(root: Path, seed: int, given: str | None) -> str:
    if given:
        return given
    from accountrisk.training.api import train

    target = root / f"model-n20000-s{seed}"
    if not (target / "checksums.json").exists():
        data = ensure_data(root, 20_000, seed)[0]
        print(f"training a quick model on {data}", file=sys.stderr, flush=True)
        train(data, AS_OF, model_dir=target, workdir=root / f"train-work-20000-s{seed}",
              register=False, plots=False)
    return str(target)


def _features(root: Path, accounts: int, seed: int):
    import pyarrow.parquet as pq

    from accountrisk.features.api import compute_features

    cache = root / f"features-n{accounts}-s{seed}-{AS_OF}.parquet"
    if not cache.exists():
        data = ensure_data(root, accounts, seed)[0]
        print(f"computing features of {data}", file=sys.stderr, flush=True)
        table = compute_features(data, AS_OF, workdir=root / f"score-work-{accounts}-s{seed}")
        pq.write_table(table, cache)
    return pq.read_table(cache)


def _request(path: str, body: bytes, content_type: str, accept: str = "application/json"
             ) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: {content_type}\r\nAccept: {accept}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _client(port: int, requests: list[bytes], stop_at: float, latencies: list[float],
                  offset: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = offset
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(requests[i % len(requests)])
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            body = await reader.readexactly(length)
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
            latencies.append(time.perf_counter() - started)
            i += 1
    finally:
        writer.close()


def _load(port: int, requests: list[bytes], clients: int, seconds: float
          ) -> tuple[list[float], float]:
    """Latencies of the requests answered in about ``seconds``, and the seconds from the
    first request to the last answer (requests in flight at the stop are waited for)."""

    async def run() -> tuple[list[float], float]:
        warm: list[float] = []
        stop = time.perf_counter() + min(1.0, seconds / 4)
        await asyncio.gather(*(_client(port, requests, stop, warm, k) for k in range(clients)))
        latencies: list[float] = []
        started = time.perf_counter()
        stop = started + seconds
        await asyncio.gather(*(_client(port, requests, stop, latencies, k * 7)
                               for k in range(clients)))
        return latencies, time.perf_counter() - started

    return asyncio.run(run())


def _summary(latencies: list[float], seconds: float, rows: int) -> dict[str, float]:
    ordered = sorted(latencies)
    return {"requests": len(ordered), "rows_per_s": len(ordered) * rows / seconds,
            "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000}


def _in_process(scorer, tables, explain, seconds: float) -> dict[str, float]:
    """``score_features`` on each of ``tables`` (Arrow tables or lists of records) in turn."""
    for table in tables[:5]:
        scorer.score_features(table, as_of=AS_OF, explain=explain)
    latencies = []
    stop = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < stop:
        started = time.perf_counter()
        scorer.score_features(tables[i % len(tables)], as_of=AS_OF, explain=explain)
        latencies.append(time.perf_counter() - started)
        i += 1
    return _summary(latencies, sum(latencies), len(tables[0]))


def _stream(table) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _serve(model: str, port: int, workers: int, log) -> subprocess.Popen:
    command = Path(sys.executable).parent / "accountrisk"
    env = {**os.environ, "ACCOUNTRISK_API_KEY": KEY}
    process = subprocess.Popen([str(command), "serve", "--model", model, "--port", str(port),
                                "--workers", str(workers), "--log-level", "warning"],
                               stdout=log, stderr=log, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("accountrisk serve exited; see its log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.terminate()
        raise RuntimeError("accountrisk serve did not start")
    # Several workers: the port opens before each has loaded its model; each says when.
    while workers > 1 and time.monotonic() < deadline:
        if Path(log.name).read_text(errors="replace").count(": model ") >= workers:
            break
        time.sleep(0.2)
    return process


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--model", default=None, help="model directory (default: train one)")
    parser.add_argument("--root", default="bench-data")
    parser.add_argument("--seconds", type=float, default=5.0, help="per measured cell")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="accountrisk serve --workers, one server run per count")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--features", default=None,
                        help="Parquet feature rows to send (default: the generated ones)")
    args = parser.parse_args(argv)

    from accountrisk.scoring.scorer import RiskScorer

    root = Path(args.root)
    root.mkdir(parents=True, exist_ok=True)
    model = _model(root, args.seed, args.model)
    if args.features:
        import pyarrow.parquet as pq

        table = pq.read_table(args.features)
    else:
        table = _features(root, args.accounts, args.seed)
    scorer = RiskScorer.load(model)
    step = max(1, table.num_rows // 200)
    singles = [table.slice(i, 1) for i in range(0, table.num_rows, step)][:200]
    batches = [table.slice(i, args.batch) for i in range(0, table.num_rows - args.batch + 1,
                                                          args.batch)][:10]
    print(f"{table.num_rows:,} feature rows, {len(scorer.features)} features, model {model}; "
          f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f})", flush=True)

    kinds = {
        "single account, JSON": ([_request("/v1/score", json.dumps(
            {"as_of": AS_OF, "rows": t.to_pylist()}).encode(), "application/json")
            for t in singles], 1),
        f"{args.batch:,} rows, JSON": ([_request("/v1/score", json.dumps(
            {"as_of": AS_OF, "rows": t.to_pylist(), "explain": "banded"}).encode(),
            "application/json") for t in batches], args.batch),
        f"{args.batch:,} rows, Arrow": ([_request(f"/v1/score?as_of={AS_OF}&explain=banded",
                                                  _stream(t), ARROW, ARROW)
                                         for t in batches], args.batch)}
    baseline = {"single account, JSON": _in_process(scorer, singles, True, args.seconds),
                f"{args.batch:,} rows, JSON": _in_process(scorer, batches, "banded",
                                                          args.seconds)}
    baseline[f"{args.batch:,} rows, Arrow"] = baseline[f"{args.batch:,} rows, JSON"]
    # The same rows as Python records (what a JSON body becomes), for reference.
    as_records = {"single account": _in_process(scorer, [t.to_pylist() for t in singles],
                                                True, args.seconds),
                  f"{args.batch:,} rows": _in_process(scorer, [t.to_pylist() for t in batches],
                                                      "banded", args.seconds)}

    results: list[tuple[str, int, int, dict[str, float]]] = []
    for workers in args.workers:
        port = _free_port()
        with tempfile.NamedTemporaryFile("w+") as log:
            server = _serve(model, port, workers, log)
            try:
                for kind, (requests, rows) in kinds.items():
                    for clients in args.clients:
                        latencies, elapsed = _load(port, requests, clients, args.seconds)
                        results.append((kind, workers, clients,
                                        _summary(latencies, elapsed, rows)))
            finally:
                server.terminate()
                server.wait(timeout=30)

    print("\n| request | workers | clients | requests/s | rows/s | p50 ms | p99 ms | "
          "in-process rows/s (1 caller) | HTTP / in-process |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, base in baseline.items():
        if kind.endswith("Arrow"):
            continue
        rows = 1 if kind.startswith("single") else args.batch
        label = "single account" if rows == 1 else f"{args.batch:,} rows"
        print(f"| {label}, RiskScorer in process | | 1 | "
              f"{base['rows_per_s'] / rows:,.0f} | {base['rows_per_s']:,.0f} | "
              f"{base['p50_ms']:.2f} | {base['p99_ms']:.2f} | | |")
    for label, base in as_records.items():
        rows = 1 if label.startswith("single") else args.batch
        print(f"| {label}, records, RiskScorer in process | | 1 | "
              f"{base['rows_per_s'] / rows:,.0f} | {base['rows_per_s']:,.0f} | "
              f"{base['p50_ms']:.2f} | {base['p99_ms']:.2f} | | |")
    for kind, workers, clients, r in results:
        rows = 1 if kind.startswith("single") else args.batch
        base = baseline[kind]
        print(f"| {kind} | {workers} | {clients} | {r['rows_per_s'] / rows:,.0f} | "
              f"{r['rows_per_s']:,.0f} | "
              f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {base['rows_per_s']:,.0f} | "
              f"{r['rows_per_s'] / base['rows_per_s']:.2f}x |")
    _goals(results, baseline, args.batch)


def _goals(results, baseline, batch: int) -> None:
    print()
    for kind, workers, clients, r in results:
        if kind.startswith("single") and clients == 8:
            p99 = r["p99_ms"]
            print(f"single account p99 at 8 clients, {workers} worker(s): {p99:.1f} ms (goal < "
                  f"{GOALS['single_p99_ms_at_8']:.0f} ms: "
                  f"{'met' if p99 < GOALS['single_p99_ms_at_8'] else 'MISSED'})")
    for kind in (f"{batch:,} rows, JSON", f"{batch:,} rows, Arrow"):
        best = max((r["rows_per_s"] for k, _, _, r in results if k == kind), default=None)
        if best is not None:
            ratio = best / baseline[kind]["rows_per_s"]
            verdict = "met" if ratio >= GOALS["batch_ratio"] else "MISSED"
            print(f"{kind}: best HTTP throughput {ratio:.2f}x in-process (goal >= "
                  f"{GOALS['batch_ratio']}x: {verdict})")


if __name__ == "__main__":
    main()
