"""Benchmark the near-duplicate searches of :mod:`accountrisk.features.neardup` in DuckDB.

Makes N random 64-bit hashes with planted near-duplicate groups (1-5 bit flips from a group
base, so members are 2-10 bits apart) and N random descriptions with planted edited copies
and boilerplate, runs the pHash and text searches on 2 threads, then checks a random sample
of items against brute force:

- pHash: every distinct hash within 5 bits of a sampled item's hash, over the WHOLE set
  (numpy), must be exactly what the SQL found for it (recall and precision).
- text: every pair found for a sampled item is re-checked in Python (exact shingle
  Jaccard >= 0.5: precision); every planted copy of or by a sampled item whose Python
  Jaccard is >= 0.5 must be found (recall).

``--pipeline`` also times the portfolio family's stages through the real pipeline context
(accounts = 2/3 of items, with profile photos, links and stock images).

    /work/venv/bin/python benchmarks/neardup.py --items 1000000
"""

from __future__ import annotations

import argparse
import re
import resource
import time
from datetime import datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa

from accountrisk.features import neardup as nd
from accountrisk.features.dialect import DUCKDB

BOILERPLATE = [f"feel free to contact me about project {k} any time of day" for k in range(20)]


def cpu_seconds() -> float:
    """CPU time of this process (DuckDB's threads included): wall time on a shared machine
    is not the whole story."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_hashes(n: int, rng: np.random.Generator) -> np.ndarray:
    """n random 64-bit hashes; ~30% of them in planted groups of 2-5 near a group base."""
    hashes = rng.integers(0, 2**64 - 1, size=n, dtype=np.uint64, endpoint=True)
    planted = int(n * 0.3)
    group_of = rng.integers(0, planted // 3, size=planted)
    bases = rng.integers(0, 2**64 - 1, size=planted // 3, dtype=np.uint64, endpoint=True)
    flips = np.zeros(planted, dtype=np.uint64)
    n_bits = rng.integers(1, 6, size=planted)
    for k in range(5):
        bit = rng.integers(0, 64, size=planted).astype(np.uint64)
        flips ^= np.where(n_bits > k, np.uint64(1) << bit, np.uint64(0))
    hashes[rng.permutation(n)[:planted]] = bases[group_of] ^ flips
    return hashes


def hex_strings(values: np.ndarray) -> pa.Array:
    return pa.array([f"{v:016x}" for v in values.tolist()], pa.string())


def make_texts(n: int, rng: np.random.Generator) -> tuple[list[str], list[tuple[int, int]]]:
    """n random descriptions; 5% are edited copies (1-3 words replaced) of an earlier one."""
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = ["".join(rng.choice(letters, size=int(rng.integers(3, 10)))) for _ in range(30000)]
    lengths = rng.integers(4, 50, size=n)
    # Skewed word choice (u^3): a few very common words, a long tail.
    idx = (len(vocab) * rng.random(int(lengths.sum())) ** 3).astype(np.int64)
    words = np.array(vocab, dtype=object)[idx]
    texts, start = [], 0
    boiler = rng.integers(0, len(BOILERPLATE), size=n)
    with_boiler = rng.random(n) < 0.4
    for i, length in enumerate(lengths.tolist()):
        body = " ".join(words[start:start + length])
        start += length
        texts.append(f"{BOILERPLATE[boiler[i]]}. {body}" if with_boiler[i] else body)
    copies = []
    for i in rng.choice(np.arange(1, n), size=n // 20, replace=False).tolist():
        j = int(rng.integers(0, i))
        edited = texts[j].split(" ")
        for _ in range(int(rng.integers(1, 4))):
            edited[int(rng.integers(0, len(edited)))] = vocab[int(rng.integers(0, len(vocab)))]
        texts[i] = " ".join(edited) + ("!" if rng.random() < 0.5 else "")
        copies.append((i, j))
    return texts, copies


def shingle_set(text: str) -> set[str]:
    words = re.sub("[^a-z0-9]+", " ", text.lower()).split()[:nd.MAX_TEXT_WORDS]
    if len(words) < nd.MIN_TEXT_WORDS:
        return set()
    w = nd.SHINGLE_WORDS
    return {" ".join(words[i:i + w]) for i in range(len(words) - w + 1)}


def jaccard(a: str, b: str) -> float:
    sa, sb = shingle_set(a), shingle_set(b)
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


def bench_phash(con, hashes: np.ndarray, sample: np.ndarray) -> dict:
    con.register("bench_hashes", pa.table({"phash": hex_strings(hashes)}))
    start, cpu = time.perf_counter(), cpu_seconds()
    nd.run_steps(lambda name, sql: con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}"),
                 nd.phash_pairs_steps(DUCKDB, "bench_hashes", "phash_pairs"))
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    found = con.sql("SELECT count(*) FROM phash_pairs").fetchall()[0][0]
    distinct = np.unique(hashes)
    want: set[tuple[int, int]] = set()
    sample_hashes = np.unique(hashes[sample])
    for chunk in np.array_split(sample_hashes, max(1, len(sample_hashes) // 16)):
        dist = np.bitwise_count(chunk[:, None] ^ distinct[None, :])
        rows, cols = np.nonzero((dist <= nd.PHASH_MAX_DISTANCE_BITS) & (dist > 0))
        for a, b in zip(chunk[rows].tolist(), distinct[cols].tolist()):
            want.add((min(a, b), max(a, b)))
    con.register("bench_sample", pa.table({"phash": hex_strings(sample_hashes)}))
    got_rows = con.sql("""SELECT p.phash, p.other_phash FROM phash_pairs AS p
        WHERE p.phash IN (SELECT phash FROM bench_sample)
           OR p.other_phash IN (SELECT phash FROM bench_sample)""").fetchall()
    got = {(int(a, 16), int(b, 16)) for a, b in got_rows}
    got = {(min(a, b), max(a, b)) for a, b in got}
    hit = len(got & want)
    return {"search": "pHash <= 5 bits", "seconds": seconds, "cpu": cpu, "pairs": found,
            "checked": len(want), "recall": hit / len(want) if want else 1.0,
            "precision": hit / len(got) if got else 1.0}


def bench_text(con, texts: list[str], copies, sample: np.ndarray) -> dict:
    con.register("bench_texts", pa.table({"item": np.arange(len(texts)), "body": texts}))
    norm = nd.normalized_text_sql(DUCKDB, "body")
    start, cpu = time.perf_counter(), cpu_seconds()
    con.execute(f"""CREATE OR REPLACE TABLE text_keys AS
        SELECT item, {nd.text_key_sql(DUCKDB, 'norm')} AS doc_key, norm
        FROM (SELECT item, {norm} AS norm FROM bench_texts) AS t""")
    docs = (f"(SELECT doc_key, {nd.text_words_sql(DUCKDB, 'norm')} AS words "
            "FROM (SELECT DISTINCT doc_key, norm FROM text_keys) AS u)")
    nd.run_steps(lambda name, sql: con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}"),
                 nd.text_pairs_steps(DUCKDB, docs, "text_pairs"))
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    found = con.sql("SELECT count(*) FROM text_pairs").fetchall()[0][0]
    key_of = dict(con.sql("SELECT item, doc_key FROM text_keys").fetchall())
    sample_keys = {key_of[i] for i in sample.tolist()}
    con.register("bench_sample_keys", pa.table({"k": list(sample_keys)}))
    got = con.sql("""SELECT p.doc_key, p.other_doc_key, a.norm, b.norm
        FROM text_pairs AS p
        JOIN (SELECT DISTINCT doc_key, norm FROM text_keys) AS a ON a.doc_key = p.doc_key
        JOIN (SELECT DISTINCT doc_key, norm FROM text_keys) AS b ON b.doc_key = p.other_doc_key
        WHERE p.doc_key IN (SELECT k FROM bench_sample_keys)
           OR p.other_doc_key IN (SELECT k FROM bench_sample_keys)""").fetchall()
    correct = sum(jaccard(a, b) >= nd.TEXT_JACCARD_MIN for _, _, a, b in got)
    got_pairs = {tuple(sorted((x, y))) for x, y, _, _ in got}
    in_sample = set(sample.tolist())
    want = {tuple(sorted((key_of[i], key_of[j]))) for i, j in copies
            if (i in in_sample or j in in_sample) and key_of[i] != key_of[j]
            and jaccard(texts[i], texts[j]) >= nd.TEXT_JACCARD_MIN}
    return {"search": "text Jaccard >= 0.5", "seconds": seconds, "cpu": cpu, "pairs": found,
            "checked": len(want), "recall": len(want & got_pairs) / len(want) if want else 1.0,
            "precision": correct / len(got) if got else 1.0}


def bench_pipeline(n_items: int, hashes: np.ndarray, texts: list[str],
                   rng: np.random.Generator) -> list[dict]:
    """Times the portfolio family's stages on contract tables, through the pipeline context."""
    import accountrisk.features.signals  # noqa: F401  (registers every family)
    from accountrisk.features import pipeline
    from accountrisk.features.engine import DuckDBEngine
    from accountrisk.features.load import load_tables
    from accountrisk.features.registry import FEATURES, STAGES

    n_accounts = max(1, n_items * 2 // 3)
    account_ids = np.array([f"acc{i:08d}" for i in range(n_accounts)], dtype=object)
    owner = rng.integers(0, n_accounts, size=n_items)
    stock = hex_strings(rng.integers(0, 2**63, size=50, dtype=np.uint64))
    images = hex_strings(hashes).to_pylist()
    for i in rng.choice(n_items, size=n_items // 50, replace=False).tolist():
        images[i] = stock[i % 50].as_py()  # stock images: each used by ~n/2500 accounts
    domains = ["github.com", "behance.net", "dribbble.com", "example-shop.com", "kaggle.com"]
    links = [f"https://www.{domains[i % 5]}/user{int(k)}/" for i, k in
             enumerate(rng.integers(0, n_items, size=n_items))]
    day0 = datetime(2024, 1, 1)
    added = [day0 + timedelta(minutes=int(m)) for m in rng.integers(0, 700 * 1440, size=n_items)]
    photos = hex_strings(make_hashes(n_accounts, rng))
    tables = {
        "accounts": pa.table({"account_id": account_ids,
                              "created_at": [day0 - timedelta(days=1)] * n_accounts,
                              "claimed_country": ["US"] * n_accounts,
                              "claimed_timezone": ["America/New_York"] * n_accounts,
                              "profile_photo_phash": photos}),
        "portfolio_items": pa.table({"account_id": account_ids[owner],
                                     "item_id": [f"it{i:09d}" for i in range(n_items)],
                                     "url": links, "description": texts,
                                     "image_phash": images, "added_at": added}),
    }
    rows = []
    with DuckDBEngine(threads=2) as engine:
        report = load_tables(tables, engine, now=datetime(2026, 1, 1))
        assert report.usable
        as_of = datetime(2026, 1, 1)
        ctx = pipeline._Context(engine=engine, d=engine.dialect, as_of=as_of,
                                available=frozenset(tables))
        for name in tables:
            table = pipeline.contract.table(name)
            columns = [c for c, _ in engine.columns(name)]
            engine.create_view(f"pit_{name}",
                               pipeline._point_in_time_sql(table, columns, ctx.as_of_sql))
        create = ctx.create

        def timed_create(name: str, sql: str) -> str:
            start, cpu = time.perf_counter(), cpu_seconds()
            out = create(name, sql)
            rows.append({"search": f"  table {name}", "seconds": time.perf_counter() - start,
                         "cpu": cpu_seconds() - cpu, "pairs": engine.scalar(
                             f"SELECT count(*) FROM {name}"),
                         "checked": None, "recall": None, "precision": None})
            return out

        ctx.create = timed_create
        for stage_name in ("confirmed_accounts", "profile_photo_matches", "portfolio_matches",
                           "portfolio_pair_edges"):
            stage = STAGES[stage_name]
            features = [f for f in FEATURES.values() if f.stage == stage_name]
            start, cpu = time.perf_counter(), cpu_seconds()
            if features:
                create(f"stage_{stage_name}", pipeline._stage_sql(stage, features, ctx))
            else:
                stage.build(ctx)
            rows.append({"search": f"stage {stage_name}", "seconds": time.perf_counter() - start,
                         "cpu": cpu_seconds() - cpu, "pairs": None, "checked": None,
                         "recall": None, "precision": None})
        edges = engine.scalar("SELECT count(*) FROM portfolio_account_pairs")
        rows[-1]["pairs"] = edges
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-text", action="store_true", help="time the pHash search only")
    parser.add_argument("--pipeline", action="store_true",
                        help="also time the portfolio stages on contract tables")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    con = duckdb.connect()
    con.execute("SET threads = $n", {"n": args.threads})
    hashes = make_hashes(args.items, rng)
    sample = rng.choice(args.items, size=min(args.sample, args.items), replace=False)
    rows = [bench_phash(con, hashes, sample)]
    rows[-1]["rss"] = peak_rss_mb()
    texts: list[str] = []
    if not args.no_text or args.pipeline:
        texts, copies = make_texts(args.items, rng)
    if not args.no_text:
        rows.append(bench_text(con, texts, copies, sample))
        rows[-1]["rss"] = peak_rss_mb()
    con.close()
    if args.pipeline:
        for row in bench_pipeline(args.items, hashes, texts, rng):
            rows.append({**row, "rss": peak_rss_mb()})
    print(f"{'items':>9} {'search':<36} {'seconds':>8} {'cpu s':>7} {'pairs':>10} {'checked':>8} "
          f"{'recall':>7} {'precision':>9} {'peak RSS MB':>11}")
    for r in rows:
        def show(value, spec):
            return format(value, spec) if value is not None else "-"
        print(f"{args.items:>9} {r['search']:<36} {r['seconds']:>8.2f} {r['cpu']:>7.1f} "
              f"{show(r['pairs'], 'd'):>10} {show(r['checked'], 'd'):>8} "
              f"{show(r['recall'], '.4f'):>7} {show(r['precision'], '.4f'):>9} "
              f"{r['rss']:>11.0f}")


if __name__ == "__main__":
    main()
