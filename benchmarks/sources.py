"""Benchmark: validating and loading one marketplace from each kind of source into DuckDB.

Generates a marketplace, writes it as a folder of files, as Hive-partitioned dataset
folders, under an S3 prefix (moto's server, in this process) and into PostgreSQL (a
throw-away server from Debian's binaries), all on 127.0.0.1, then times ``load_folder``
and the fingerprint (the "already loaded" check) of each. Prints a table.

    python benchmarks/sources.py --accounts 20000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/ helpers

from accountrisk.features.engine import DuckDBEngine  # noqa: E402
from accountrisk.features.load import load_folder  # noqa: E402
from accountrisk.features.workspace import source_fingerprint  # noqa: E402
from tests.servers import postgres_server, s3_server  # noqa: E402
from tests.sources.market import ingest, upload, write_local, write_partitioned  # noqa: E402


def timed(uri: str) -> tuple[float, float, int]:
    """(load seconds, fingerprint seconds, rows loaded) of one source."""
    with DuckDBEngine() as engine:
        started = time.perf_counter()
        report = load_folder(uri, engine)
        load_s = time.perf_counter() - started
    assert report.usable, [p.render() for p in report.rejections()]
    started = time.perf_counter()
    source_fingerprint(uri)
    return load_s, time.perf_counter() - started, sum(report.loaded_rows.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, postgres_server() as pg, s3_server() as s3:
        os.environ.update(s3.environment)
        local = write_local(Path(tmp) / "local", accounts=args.accounts, seed=1)
        partitioned = write_partitioned(local, Path(tmp) / "partitioned")
        started = time.perf_counter()
        ingest(local, pg.uri())
        print(f"(PostgreSQL ingest through ADBC: {time.perf_counter() - started:.2f} s)")
        uris = {"local files": str(local), "partitioned folders": str(partitioned),
                "s3 (moto, partitioned)": upload(partitioned, s3.client(), "bench"),
                "postgresql (ADBC)": pg.uri()}
        print(f"{'source':<24} {'rows':>10} {'load s':>8} {'rows/s':>10} {'fingerprint s':>14}")
        for name, uri in uris.items():
            load_s, fingerprint_s, rows = timed(uri)
            print(f"{name:<24} {rows:>10,} {load_s:>8.2f} {rows / load_s:>10,.0f} "
                  f"{fingerprint_s:>14.3f}")


if __name__ == "__main__":
    main()
