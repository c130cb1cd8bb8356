"""Benchmark the whole text near-duplicate search on a marketplace's proposal cover texts.

Reads ``proposals.parquet`` of a contract folder (e.g. one ``benchmarks/features.py``
generated), normalizes and shingles every cover text as the proposal stage does, then runs
the steps of :func:`accountrisk.features.neardup.text_pairs_steps` one by one in an
in-memory DuckDB (2 threads, 6 GB), printing seconds and rows per step. ``--reference``
also finds the pairs the way the search did before prefix filtering (every two texts
sharing an informative shingle, joined and counted) and checks both give the same pairs.

    python benchmarks/cover_texts.py bench-data/n1000000-s101 --reference
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from accountrisk.features import neardup as nd
from accountrisk.features import text_pairs as tp
from accountrisk.features.dialect import DUCKDB as D


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="a contract folder with proposals.parquet")
    parser.add_argument("--reference", action="store_true",
                        help="also join all postings (the search before prefix filtering)")
    parser.add_argument("--memory-limit", default="6GB")
    args = parser.parse_args()
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET memory_limit = $m", {"m": args.memory_limit})
    rows: list[tuple[str, float, int]] = []

    def create(name: str, sql: str) -> None:
        start = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
        count = con.execute(f"SELECT count(*) FROM {name}").fetchone()
        rows.append((name, time.perf_counter() - start, count[0] if count else 0))

    source = str(args.data / "proposals.parquet").replace("'", "''")
    create("texts", f"""
        SELECT DISTINCT {nd.text_key_sql(D, 'norm')} AS doc_key, norm
        FROM (SELECT {nd.normalized_text_sql(D, 'cover_text')} AS norm
              FROM read_parquet('{source}') WHERE cover_text IS NOT NULL) AS t""")
    docs = (f"(SELECT doc_key, {nd.text_words_sql(D, 'norm')} AS words "
            "FROM (SELECT doc_key, min(norm) AS norm FROM texts GROUP BY doc_key) AS u)")
    create("shingles", nd.text_shingles_sql(D, docs))
    for name, sql in tp.shingle_pairs_steps("shingles", "pairs"):
        create(name, sql)
    search = sum(s for name, s, _ in rows if name.startswith("pairs"))
    rows.append(("search (the pairs_ steps)", search, rows[-1][2]))
    if args.reference:
        everyone = "SELECT doc_key FROM pairs_sizes"
        create("reference", tp._verified_pairs_sql("pairs", "b.doc_key > a.doc_key", everyone))
        differ = con.execute("""SELECT count(*) FROM (
            (SELECT * FROM pairs EXCEPT SELECT * FROM reference)
            UNION ALL (SELECT * FROM reference EXCEPT SELECT * FROM pairs))""").fetchone()
        rows.append(("pairs differing from the reference", 0.0, differ[0] if differ else -1))
    print(f"| step ({args.data.name}) | seconds | rows |\n|---|---|---|")
    for name, seconds, count in rows:
        print(f"| {name} | {seconds:.2f} | {count:,} |")


if __name__ == "__main__":
    main()
