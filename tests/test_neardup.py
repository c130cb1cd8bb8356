"""Near-duplicate search building blocks, checked against brute force."""

from __future__ import annotations

import random
import re
from collections import Counter
from itertools import combinations

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accountrisk.features import neardup as nd
from accountrisk.features.dialect import DUCKDB

FULL = (1 << 64) - 1


def duck_run(con, steps) -> list[tuple]:
    """Materialize search steps in DuckDB; the rows of the result table."""
    out = nd.run_steps(lambda name, sql: con.execute(f"CREATE TABLE {name} AS {sql}"), steps)
    return con.sql(f"SELECT * FROM {out}").fetchall()


def spark_run(engine, steps) -> list[tuple]:
    """Materialize search steps with the Spark engine (checkpointed temporary views)."""
    out = nd.run_steps(engine.create_table, steps)
    return [tuple(r) for r in engine.spark.sql(f"SELECT * FROM {out}").collect()]


def hexes(values) -> list[str]:
    return [f"{v:016x}" for v in values]


def sql_pairs(hashes: list[str]) -> set[tuple[str, str]]:
    con = duckdb.connect()
    con.register("h", pa.table({"phash": pa.array(hashes, pa.string())}))
    rows = duck_run(con, nd.phash_pairs_steps(DUCKDB, "h", "pairs"))
    con.close()
    assert all(a < b and 1 <= dist <= nd.PHASH_MAX_DISTANCE_BITS for a, b, dist in rows)
    assert len(rows) == len({(a, b) for a, b, _ in rows}), "a pair came out twice"
    return {(a, b) for a, b, _ in rows}


def brute_pairs(hashes: list[str]) -> set[tuple[str, str]]:
    distinct = sorted({h for h in hashes if h is not None})
    values = np.array([int(h, 16) for h in distinct], dtype=np.uint64)
    dist = np.bitwise_count(values[:, None] ^ values[None, :])
    i, j = np.nonzero(np.triu(dist <= nd.PHASH_MAX_DISTANCE_BITS, k=1))
    return {(distinct[a], distinct[b]) for a, b in zip(i.tolist(), j.tolist())}


def flip(value: int, bits) -> int:
    for b in bits:
        value ^= 1 << b
    return value


def test_distance_five_is_found_and_six_is_not():
    rng = random.Random(1)
    found, missed = [], []
    for _ in range(40):
        base = rng.getrandbits(64)
        five = flip(base, rng.sample(range(64), 5))
        base2 = base ^ FULL  # far from base, so the two pairs do not meet
        six = flip(base2, rng.sample(range(64), 6))
        found.append(tuple(sorted(hexes([base, five]))))
        missed.append(tuple(sorted(hexes([base2, six]))))
    hashes = [h for pair in found + missed for h in pair]
    got = sql_pairs(hashes)
    assert set(found) <= got
    assert not set(missed) & got
    assert got == brute_pairs(hashes)


def test_equal_hashes_are_one_key_not_a_pair():
    assert sql_pairs(["00000000000000ff", "00000000000000ff", None]) == set()


@pytest.mark.parametrize("bits", [
    (63,), (44,), (43,), (24,), (23,), (32,), (31,), (0,),  # band and half boundaries
    (44, 43, 24, 23, 0),  # across both band boundaries, at the limit
    (63, 62, 61, 60, 59),  # all five in band 0
    (43, 40, 35, 30, 24),  # all five in band 1
    (23, 17, 11, 5, 0),  # all five in band 2
    (63, 50, 43, 30, 10),  # 2 + 2 + 1
    (63, 43, 30, 23, 10),  # 1 + 2 + 2
    (33, 32, 31, 30, 29),  # across the 32-bit halves
])
def test_flips_in_every_band_and_across_boundaries_are_found(bits):
    rng = random.Random(sum(bits))
    base = rng.getrandbits(64)
    pair = tuple(sorted(hexes([base, flip(base, bits)])))
    assert sql_pairs(list(pair)) == {pair}


@pytest.mark.parametrize("bits", [
    (63, 62, 43, 42, 23, 22),  # 2 + 2 + 2: no band within one bit, and too far anyway
    (44, 43, 24, 23, 1, 0),
    (5, 4, 3, 2, 1, 0),
])
def test_six_flips_are_not_found_wherever_they_are(bits):
    base = random.Random(7).getrandbits(64)
    assert sql_pairs(hexes([base, flip(base, bits)])) == set()


def test_every_single_bit_flip_is_found():
    rng = random.Random(3)
    hashes = []
    for k in range(64):
        base = rng.getrandbits(64)
        hashes += hexes([base, flip(base, [k])])
    assert sql_pairs(hashes) == brute_pairs(hashes)
    assert len(brute_pairs(hashes)) >= 64


def test_random_hashes_with_planted_near_duplicates_match_brute_force():
    rng = np.random.default_rng(11)
    base = rng.integers(0, 2**64 - 1, size=3000, dtype=np.uint64, endpoint=True)
    planted = []
    for i in rng.choice(len(base), size=600, replace=False):
        n_bits = int(rng.integers(0, 8))  # 0 (exact copy) to 7 bits
        mask = 0
        for b in rng.choice(64, size=n_bits, replace=False):
            mask |= 1 << int(b)
        planted.append(int(base[i]) ^ mask)
    hashes = hexes(base.tolist()) + hexes(planted)
    want = brute_pairs(hashes)
    assert len(want) > 300
    assert sql_pairs(hashes) == want


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, FULL), min_size=1, max_size=8),
       st.lists(st.tuples(st.integers(0, 7), st.sets(st.integers(0, 63), max_size=7)),
                max_size=20))
def test_property_sql_pairs_equal_brute_force(bases, copies):
    hashes = hexes(bases) + hexes(flip(bases[i % len(bases)], bits) for i, bits in copies)
    assert sql_pairs(hashes) == brute_pairs(hashes)


# -- text --------------------------------------------------------------------------------------
def text_pairs(docs: dict[str, str]) -> dict[tuple[str, str], float]:
    con = duckdb.connect()
    con.register("raw", pa.table({"doc_key": list(docs), "body": list(docs.values())}))
    norm = nd.normalized_text_sql(DUCKDB, "body")
    src = f"(SELECT doc_key, {nd.text_words_sql(DUCKDB, norm)} AS words FROM raw)"
    rows = duck_run(con, nd.text_pairs_steps(DUCKDB, src, "pairs"))
    con.close()
    return {(a, b): j for a, b, j in rows}


def shingles(text: str) -> set[str]:
    words = re.sub("[^a-z0-9]+", " ", text.lower()).split()[:nd.MAX_TEXT_WORDS]
    if len(words) < nd.MIN_TEXT_WORDS:
        return set()
    return {" ".join(words[i:i + nd.SHINGLE_WORDS])
            for i in range(len(words) - nd.SHINGLE_WORDS + 1)}


def test_edited_copy_is_found_and_boilerplate_alone_is_not():
    boiler = "Feel free to contact me for any questions about this project. "
    docs = {
        "orig": "Built a full stack online store with React, Node and Postgres for a "
                "furniture retailer, including payments and an admin dashboard.",
        "edit": "Built a full-stack online shop with React, Node and Postgres for a "
                "furniture retailer; including payments and an admin dashboard!",
        "short": "Logo design.",
        "short2": "Logo design.",
    }
    for i in range(nd.SHINGLE_MAX_DOCS + 5):  # boilerplate shared by many unrelated texts
        docs[f"u{i:02d}"] = boiler + f"Project number {i} was about topic {i * 7} and {i * 13}."
    got = text_pairs(docs)
    assert ("edit", "orig") in got
    assert got[("edit", "orig")] >= nd.TEXT_JACCARD_MIN
    assert set(got) == {("edit", "orig")}


def random_corpus() -> dict[str, str]:
    """Short random texts over a small vocabulary, boilerplate, and edited copies."""
    rng = random.Random(5)
    vocab = [f"w{i}" for i in range(60)]
    boiler = "i am a reliable developer with many years of experience"
    docs: dict[str, str] = {}
    for i in range(300):
        words = [rng.choice(vocab) for _ in range(rng.randint(3, 25))]
        if rng.random() < 0.3:
            words = boiler.split() + words
        docs[f"d{i:03d}"] = " ".join(words)
    for i in range(80):  # edited copies: a few words swapped, dropped or added
        words = docs[f"d{rng.randrange(300):03d}"].split()
        for _ in range(rng.randint(0, 3)):
            words[rng.randrange(len(words))] = rng.choice(vocab)
        docs[f"e{i:03d}"] = " ".join(words + [rng.choice(vocab)] * rng.randint(0, 2))
    return docs


def test_only_the_first_words_are_compared():
    head = " ".join(f"h{i}" for i in range(nd.MAX_TEXT_WORDS))
    docs = {"a": head + " " + " ".join(f"a{i}" for i in range(300)),
            "b": head + " " + " ".join(f"b{i}" for i in range(300))}
    assert set(text_pairs(docs)) == {("a", "b")}
    assert text_pairs(docs)[("a", "b")] == 1.0


def brute_text_pairs(docs: dict[str, str]) -> dict[tuple[str, str], float]:
    """The definition, pair by pair: Jaccard over the shingles in at most SHINGLE_MAX_DOCS
    texts, at least TEXT_MIN_SHARED_SHINGLES of them shared."""
    sets = {k: shingles(v) for k, v in docs.items()}
    df: dict[str, int] = {}
    for s in sets.values():
        for sh in s:
            df[sh] = df.get(sh, 0) + 1
    informative = {k: {sh for sh in v if df[sh] <= nd.SHINGLE_MAX_DOCS} for k, v in sets.items()}
    want = {}
    for a, b in combinations(sorted(sets), 2):
        sa, sb = informative[a], informative[b]
        shared = sa & sb
        if len(shared) < nd.TEXT_MIN_SHARED_SHINGLES:
            continue  # boilerplate counts on neither side; a copy shares a few phrases
        jaccard = len(shared) / len(sa | sb)
        if jaccard >= nd.TEXT_JACCARD_MIN:
            want[(a, b)] = jaccard
    return want


def test_text_pairs_equal_brute_force_jaccard_over_informative_shingles():
    docs = random_corpus()
    assert max(Counter(sh for v in docs.values() for sh in shingles(v)).values()) \
        > nd.SHINGLE_MAX_DOCS  # the boilerplate path is exercised
    want = brute_text_pairs(docs)
    got = text_pairs(docs)
    assert len(want) > 30
    assert set(got) == set(want)
    assert all(abs(got[k] - want[k]) < 1e-12 for k in want)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 11), min_size=0, max_size=40), min_size=2, max_size=25),
       st.lists(st.tuples(st.integers(0, 24), st.integers(0, 60), st.integers(-8, 8)),
                max_size=25))
def test_property_text_pairs_equal_brute_force(texts, copies):
    # A 12-word vocabulary makes chance overlaps and ties in shingle rarity common; copies
    # cut or grow a text around the Jaccard threshold, where the prefix filter is tightest.
    docs = {f"t{i:02d}": " ".join(f"w{w}" for w in words) for i, words in enumerate(texts)}
    for j, (source, cut, grow) in enumerate(copies):
        words = docs[f"t{source % len(texts):02d}"].split()
        words = words[cut % (len(words) + 1):] if grow < 0 else words
        docs[f"c{j:02d}"] = " ".join(words + [f"x{j}y{g}" for g in range(max(grow, 0))])
    want = brute_text_pairs(docs)
    got = text_pairs(docs)
    assert set(got) == set(want)
    assert all(abs(got[k] - want[k]) < 1e-12 for k in want)


def targeted_text_pairs(docs: dict[str, str], present: list[str], sources: list[str]
                        ) -> tuple[set[tuple[str, str]], dict[tuple[str, str], float]]:
    """The targeted search over the ``present`` texts for ``sources``: its key pairs and
    the Jaccards of the pairs touching a source."""
    from accountrisk.features.text_pairs import targeted_pairs_steps

    con = duckdb.connect()
    con.register("raw", pa.table({"doc_key": list(docs), "body": list(docs.values())}))
    con.register("present_keys", pa.table({"doc_key": pa.array(present, pa.string())}))
    con.register("source_keys", pa.table({"doc_key": pa.array(sources, pa.string())}))
    norm = nd.normalized_text_sql(DUCKDB, "body")
    src = f"(SELECT doc_key, {nd.text_words_sql(DUCKDB, norm)} AS words FROM raw)"
    con.execute(f"CREATE TABLE stored AS {nd.text_shingles_sql(DUCKDB, src)}")
    rows = duck_run(con, targeted_pairs_steps("stored", "SELECT doc_key FROM present_keys",
                                              "SELECT doc_key FROM source_keys", "tp"))
    near = con.sql("SELECT doc_key, other_doc_key, jaccard FROM tp_near").fetchall()
    con.close()
    return {(a, b) for a, b in rows}, {(a, b): j for a, b, j in near}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 11), min_size=0, max_size=40), min_size=2, max_size=25),
       st.lists(st.tuples(st.integers(0, 24), st.integers(0, 60), st.integers(-8, 8)),
                max_size=25), st.randoms(use_true_random=False))
def test_property_targeted_text_pairs_equal_the_whole_search(texts, copies, rnd):
    """A search for a few texts (a training snapshot's accounts) over the texts present as
    of T: every pair touching one of them and every pair touching one of their
    near-duplicates, as the definition over the present texts gives them."""
    docs = {f"t{i:02d}": " ".join(f"w{w}" for w in words) for i, words in enumerate(texts)}
    for j, (source, cut, grow) in enumerate(copies):
        words = docs[f"t{source % len(texts):02d}"].split()
        words = words[cut % (len(words) + 1):] if grow < 0 else words
        docs[f"c{j:02d}"] = " ".join(words + [f"x{j}y{g}" for g in range(max(grow, 0))])
    present = sorted(k for k in docs if rnd.random() < 0.8)
    check_targeted(docs, present, sorted(k for k in present if rnd.random() < 0.3))


def check_targeted(docs: dict[str, str], present: list[str], sources: list[str]) -> None:
    whole = brute_text_pairs({k: docs[k] for k in present})
    both = {**whole, **{(b, a): j for (a, b), j in whole.items()}}
    near = {pair: j for pair, j in both.items() if pair[0] in sources}
    hop = {b for a, b in near} - {a for a, b in near}
    want = set(near) | {pair for pair in both if pair[0] in hop}
    got, got_near = targeted_text_pairs(docs, present, sources)
    assert got == want
    assert set(got_near) == set(near)
    assert all(abs(got_near[k] - near[k]) < 1e-12 for k in near)


@pytest.mark.parametrize("present_share", [1.0, 0.6])
def test_targeted_text_pairs_count_boilerplate_among_the_present_texts(present_share):
    docs = random_corpus()
    rnd = random.Random(8)
    present = sorted(k for k in docs if rnd.random() < present_share)
    counts = Counter(sh for k in present for sh in shingles(docs[k]))
    assert max(counts.values()) > nd.SHINGLE_MAX_DOCS  # boilerplate among them too
    sources = sorted(k for k in present if rnd.random() < 0.15)
    check_targeted(docs, present, sources)


# -- links -------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, normalized", [
    ("HTTPS://www.GitHub.com/x/", "github.com/x"),
    ("github.com/x", "github.com/x"),
    ("http://github.com/x?tab=repos#top", "github.com/x"),
    ("  www.behance.net/gallery/123//  ", "behance.net/gallery/123"),
    ("ftp://wwwx.org/", "wwwx.org"),
    ("https://", None),
    ("   ", None),
])
def test_link_normalization(raw, normalized):
    sql = f"SELECT {nd.normalized_link_sql(DUCKDB, 'u')} FROM (SELECT CAST($u AS VARCHAR) AS u)"
    assert duckdb.execute(sql, {"u": raw}).fetchall() == [(normalized,)]


# -- expansion ---------------------------------------------------------------------------------
def expand(keys: list[tuple[str, str]], pairs: list[tuple[str, str]]):
    con = duckdb.connect()
    con.register("k", pa.table({"key": [k for k, _ in keys], "account_id": [a for _, a in keys],
                                "added_at": pa.array([0] * len(keys), pa.int64())}))
    both = pairs + [(b, a) for a, b in pairs]
    con.register("p", pa.table({"key": pa.array([a for a, _ in both], pa.string()),
                                "other_key": pa.array([b for _, b in both], pa.string())}))
    rows = duck_run(con, nd.expand_matches_steps("k", "p", "m"))
    common = {r[0] for r in con.sql("SELECT key FROM m_common").fetchall()}
    con.close()
    return {(a, o) for _, a, o, _ in rows}, common


def hub_scenario() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(key, account) rows and near-duplicate key pairs around the common-key cap."""
    cap = nd.COMMON_KEY_ACCOUNTS
    keys = [("stock", f"s{i}") for i in range(cap + 1)]  # one key, too many accounts
    keys += [("ok", f"o{i}") for i in range(cap)]  # exactly at the cap: still evidence
    half = cap // 2 + 1  # two near-duplicate keys, together above the cap
    keys += [("v1", f"v{i}") for i in range(half)] + [("v2", f"w{i}") for i in range(half)]
    keys += [("x1", "a"), ("x2", "b"), ("x3", "c")]  # small cluster next to a stock key
    pairs = [("v1", "v2"), ("x1", "x2"), ("x2", "stock")]
    return keys, pairs


def test_common_keys_are_left_out_of_the_expansion():
    cap = nd.COMMON_KEY_ACCOUNTS
    got, common = expand(*hub_scenario())
    assert common == {"stock", "v1", "v2", "x2"}
    assert {a for a, _ in got} == {f"o{i}" for i in range(cap)}
    assert len(got) == cap * (cap - 1)


@pytest.mark.spark
def test_same_pairs_on_spark(spark_engine):
    from accountrisk.features.dialect import SPARK

    rng = random.Random(2)
    values = [rng.getrandbits(64) for _ in range(200)]
    values += [flip(v, rng.sample(range(64), rng.randint(0, 6))) for v in values[:100]]
    hashes = hexes(values)
    docs = random_corpus()
    spark = spark_engine.spark
    try:
        spark.createDataFrame([(h,) for h in hashes], "phash string").createOrReplaceTempView("h")
        steps = nd.phash_pairs_steps(SPARK, "h", "hp")
        got = {(r[0], r[1]) for r in spark_run(spark_engine, steps)}
        assert got == brute_pairs(hashes)
        spark.createDataFrame(list(docs.items()), "doc_key string, body string") \
            .createOrReplaceTempView("raw")
        norm = nd.normalized_text_sql(SPARK, "body")
        src = f"(SELECT doc_key, {nd.text_words_sql(SPARK, norm)} AS words FROM raw)"
        rows = spark_run(spark_engine, nd.text_pairs_steps(SPARK, src, "tp"))
        want = text_pairs(docs)
        assert len(want) > 30
        assert {(r[0], r[1]): r[2] for r in rows} == want
        link = spark.sql(f"SELECT {nd.normalized_link_sql(SPARK, 'u')} "
                         "FROM (SELECT 'HTTPS://www.GitHub.com/x/?a=1' AS u) AS t").collect()
        assert link[0][0] == "github.com/x"
        keys, pairs = hub_scenario()
        spark.createDataFrame([(k, a, 0) for k, a in keys], "key string, account_id string, "
                              "added_at int").createOrReplaceTempView("k")
        both = pairs + [(b, a) for a, b in pairs]
        spark.createDataFrame(both, "key string, other_key string").createOrReplaceTempView("p")
        rows = spark_run(spark_engine, nd.expand_matches_steps("k", "p", "m"))
        common = {r[0] for r in spark.sql("SELECT key FROM m_common").collect()}
        assert ({(r[1], r[2]) for r in rows}, common) == expand(keys, pairs)
    finally:
        for name in ("h", "raw", "k", "p"):
            spark.catalog.dropTempView(name)


def test_mostly_boilerplate_texts_need_a_few_shared_informative_shingles():
    boiler = "feel free to contact me for any questions about the project"
    docs = {f"b{i}": boiler + f" x{i} y{i}" for i in range(nd.SHINGLE_MAX_DOCS + 1)}
    # Informative shingles {the project rare, project rare words} and the same plus
    # {rare words now}: Jaccard 2/3, but only 2 shared, fewer than 3.
    docs["p"] = boiler + " rare words"
    docs["q"] = boiler + " rare words now"
    docs["r"] = "alpha beta gamma delta epsilon zeta eta"
    docs["s"] = "alpha beta gamma delta epsilon zeta theta"
    got = text_pairs(docs)
    assert ("p", "q") not in got
    assert ("r", "s") in got  # 4 of 5 informative shingles shared
