"""Exact near-duplicate text pairs from the texts' shingles (see :mod:`.neardup`).

Two texts are near-duplicates when the Jaccard similarity of their *informative* shingle
sets (shingles in at most :data:`SHINGLE_MAX_DOCS` texts) is at least
:data:`TEXT_JACCARD_MIN` and they share at least :data:`TEXT_MIN_SHARED_SHINGLES` of them.
The whole search filters candidate pairs by prefixes (:func:`shingle_pairs_steps`); a search
for a few texts' pairs joins their shingles' postings directly and counts only the shingles
their test reads (:func:`targeted_pairs_steps`).
"""

from __future__ import annotations

TEXT_JACCARD_MIN = 0.5
# Texts made almost only of stock phrases keep one or two informative shingles, and two
# such texts would reach any Jaccard by chance: a copy must share at least this many.
TEXT_MIN_SHARED_SHINGLES = 3
SHINGLE_MAX_DOCS = 50
# Texts that pass the Jaccard test share at least this many shingles within their
# prefixes; at most TEXT_MIN_SHARED_SHINGLES (see _prefix_filtered_pairs_steps).
PREFIX_SHARED = TEXT_MIN_SHARED_SHINGLES

Step = tuple[str, str]  # (table name, SELECT statement)


def shingle_pairs_steps(shingles: str, out: str, *, stored: bool = False) -> list[Step]:
    """As :func:`.neardup.text_pairs_steps`, from the texts' shingles already made by
    :func:`.neardup.text_shingles_sql` (``shingles``: a table or parenthesised subquery of
    ``(doc_key, shingle_hash)`` rows, e.g. the rows of the texts that exist as of T).
    ``stored``: ``shingles`` is a table, read in place instead of copied first."""
    return [*_shingle_counts_steps(shingles, out, stored=stored),
            *_prefix_filtered_pairs_steps(out)]


def _shingle_counts_steps(shingles: str, out: str, *, stored: bool = False) -> list[Step]:
    """``{out}_shingles`` (unless ``stored``), ``{out}_postings(doc_key, shingle_hash,
    doc_count)`` (shingles in 2+ texts) and ``{out}_sizes(doc_key, n, n_common,
    shareable_count)``: what the whole search reads."""
    copy = [] if stored else [(f"{out}_shingles",
                               f"SELECT doc_key, shingle_hash FROM {shingles} AS src")]
    source = shingles if stored else f"{out}_shingles"
    # Only shingles in 2+ texts can make a pair; most are in one text only.
    postings = f"""
        SELECT s.doc_key, s.shingle_hash, df.doc_count
        FROM {source} AS s
        JOIN (SELECT shingle_hash, count(*) AS doc_count FROM {source}
              GROUP BY shingle_hash) AS df
          ON df.shingle_hash = s.shingle_hash AND df.doc_count >= 2"""
    # shareable_count: informative shingles in 2+ texts, the only ones a pair can share.
    sizes = f"""
        SELECT s.doc_key, s.n, coalesce(c.n_common, 0) AS n_common,
               coalesce(c.shareable_count, 0) AS shareable_count
        FROM (SELECT doc_key, count(*) AS n FROM {source} GROUP BY doc_key) AS s
        LEFT JOIN (SELECT doc_key,
                          count(CASE WHEN doc_count > {SHINGLE_MAX_DOCS} THEN 1 END)
                            AS n_common,
                          count(CASE WHEN doc_count <= {SHINGLE_MAX_DOCS} THEN 1 END)
                            AS shareable_count
                   FROM {out}_postings GROUP BY doc_key) AS c
          ON c.doc_key = s.doc_key"""
    return [*copy, (f"{out}_postings", postings), (f"{out}_sizes", sizes)]


def _prefix_filtered_pairs_steps(out: str) -> list[Step]:
    """The whole search's pairs, ``b.doc_key > a.doc_key``, by prefix filtering (AllPairs,
    Bayardo et al. 2007): order every text's shareable shingles rarest first; if two texts
    share at least ``s`` shingles, the first ``k`` shared ones (k = ``PREFIX_SHARED``) lie
    within the first ``shareable - s + k`` of each text's order. Only those prefixes are
    joined, and only pairs meeting in ``k`` of them are verified on every shingle. The same
    pairs as joining all postings, which pairs every two texts sharing any informative
    shingle (on a 1.8M-text corpus, 560M pair rows against 280M)."""
    k = PREFIX_SHARED
    # Texts of x and y informative shingles pass the test only if they share at least
    # s >= max(3, t / (1 + t) * (x + y)) (from s / (x + y - s) >= t), and y >= t * x.
    # ``slack``: how many shared shingles may lie after this one in the text's order; a row
    # can be among the first k shared ones only if s <= slack, i.e.
    # y <= (slack / ratio) - x =: budget. Bounds are loosened by 1e-6 so that float error
    # never drops a pair; all arithmetic is DOUBLE (DuckDB would keep decimals).
    ratio = f"CAST({TEXT_JACCARD_MIN / (1 + TEXT_JACCARD_MIN)!r} AS DOUBLE)"
    x = "CAST(s.n - s.n_common AS DOUBLE)"
    prefix = f"""
        SELECT doc_key, shingle_hash, informative_count,
               (CAST(slack AS DOUBLE) + 1e-6) / {ratio} - informative_count AS budget
        FROM (SELECT p.doc_key, p.shingle_hash, {x} AS informative_count,
                     s.shareable_count + {k} - row_number() OVER (
                         PARTITION BY p.doc_key ORDER BY p.doc_count, p.shingle_hash) AS slack
              FROM {out}_postings AS p JOIN {out}_sizes AS s ON s.doc_key = p.doc_key
              WHERE p.doc_count <= {SHINGLE_MAX_DOCS}) AS ranked
        WHERE slack >= {TEXT_MIN_SHARED_SHINGLES}
          AND CAST(slack AS DOUBLE) + 1e-6 >= CAST({TEXT_JACCARD_MIN!r} AS DOUBLE)
                                             * informative_count"""
    candidates = f"""
        SELECT a.doc_key, b.doc_key AS other_doc_key
        FROM {out}_prefix AS a JOIN {out}_prefix AS b
          ON b.shingle_hash = a.shingle_hash AND b.doc_key > a.doc_key
        WHERE b.informative_count <= a.budget AND a.informative_count <= b.budget
        GROUP BY a.doc_key, b.doc_key
        HAVING count(*) >= {k}"""
    # The candidates' informative shingles first, found by a semi-join with the few
    # candidate texts: joining the candidates with every posting by (text, shingle) made
    # Spark shuffle all the postings for a few million rows.
    candidate_postings = f"""
        SELECT doc_key, shingle_hash FROM {out}_postings
        WHERE doc_count <= {SHINGLE_MAX_DOCS} AND doc_key IN (
            SELECT doc_key FROM {out}_candidates
            UNION SELECT other_doc_key AS doc_key FROM {out}_candidates)"""
    counted = f"""
        SELECT c.doc_key, c.other_doc_key, count(*) AS rare_shared
        FROM {out}_candidates AS c
        JOIN {out}_candidate_postings AS a ON a.doc_key = c.doc_key
        JOIN {out}_candidate_postings AS b
          ON b.doc_key = c.other_doc_key AND b.shingle_hash = a.shingle_hash
        GROUP BY c.doc_key, c.other_doc_key"""
    return [(f"{out}_prefix", prefix), (f"{out}_candidates", candidates),
            (f"{out}_candidate_postings", candidate_postings),
            (out, _jaccard_test_sql(out, counted))]


def _jaccard_test_sql(out: str, counted: str) -> str:
    """The pairs of ``counted`` (``doc_key, other_doc_key, rare_shared``) that pass the
    Jaccard test, with their Jaccard."""
    # Jaccard over the informative shingles (those in at most SHINGLE_MAX_DOCS texts):
    # shared boilerplate says nothing about copying, so it counts on neither side.
    shared = "c.rare_shared"
    union = f"(sa.n - sa.n_common + sb.n - sb.n_common - {shared})"
    return f"""
        SELECT c.doc_key, c.other_doc_key,
               CAST({shared} AS DOUBLE) / CAST({union} AS DOUBLE) AS jaccard
        FROM ({counted}) AS c
        JOIN {out}_sizes AS sa ON sa.doc_key = c.doc_key
        JOIN {out}_sizes AS sb ON sb.doc_key = c.other_doc_key
        WHERE {shared} >= {TEXT_MIN_SHARED_SHINGLES}
          AND CAST({shared} AS DOUBLE) >= {TEXT_JACCARD_MIN} * CAST({union} AS DOUBLE)"""


def targeted_pairs_steps(stored: str, present: str, sources: str, out: str) -> list[Step]:
    """The pairs of :func:`shingle_pairs_steps` that expanding the keys of ``sources`` (a
    subquery of ``doc_key``) needs, into ``out`` in the shape of :func:`both_directions_sql`:
    every pair touching a source text, and every pair touching one of their near-duplicates
    (whether a neighbour is a common key depends on its own neighbours). ``stored``: the
    ``(doc_key, shingle_hash)`` rows of every text, ``present``: a subquery of the keys of
    the texts that exist as of T. Exact for the sources' accounts; for a few sources a
    small share of the whole search: nothing is counted for every text."""
    docs = f"{out}_docs"
    near = _pairs_touching_steps(stored, docs, sources, f"{out}_near")
    hop = (f"SELECT DISTINCT other_doc_key AS doc_key FROM {out}_near WHERE other_doc_key "
           f"NOT IN (SELECT doc_key FROM {out}_near)")
    far = _pairs_touching_steps(stored, docs, hop, f"{out}_far")
    pairs = " UNION ALL ".join(
        f"SELECT CAST(doc_key AS STRING) AS key, CAST(other_doc_key AS STRING) AS other_key "
        f"FROM {out}_{part}" for part in ("near", "far"))
    return [(docs, f"SELECT DISTINCT doc_key FROM ({present}) AS p"), *near, *far,
            (out, pairs)]


def _pairs_touching_steps(stored: str, docs: str, only: str, out: str) -> list[Step]:
    """``(doc_key, other_doc_key, jaccard)`` into ``out``: the pairs of texts of ``docs``
    (the texts as of T) that pass the Jaccard test, for ``doc_key`` in ``only``. Shingle
    counts are taken only for the shingles the test reads: those of ``only``'s texts (which
    are informative, and which texts share them) and those of the texts meeting them in at
    least ``TEXT_MIN_SHARED_SHINGLES`` informative shingles (their sizes)."""
    def shingles_of(keys: str) -> str:
        return f"SELECT doc_key, shingle_hash FROM {stored} WHERE doc_key IN ({keys})"

    def rows_holding(shingles: str) -> str:
        return (f"SELECT doc_key, shingle_hash FROM {stored} WHERE shingle_hash IN "
                f"(SELECT shingle_hash FROM {shingles}) AND doc_key IN "
                f"(SELECT doc_key FROM {docs})")

    counted = f"""
        SELECT a.doc_key, b.doc_key AS other_doc_key, count(*) AS rare_shared
        FROM {out}_own AS a
        JOIN {out}_own_counts AS df
          ON df.shingle_hash = a.shingle_hash AND df.doc_count <= {SHINGLE_MAX_DOCS}
        JOIN {out}_hits AS b ON b.shingle_hash = a.shingle_hash AND b.doc_key <> a.doc_key
        GROUP BY a.doc_key, b.doc_key
        HAVING count(*) >= {TEXT_MIN_SHARED_SHINGLES}"""
    involved = (f"SELECT doc_key FROM {out}_counted UNION "
                f"SELECT other_doc_key AS doc_key FROM {out}_counted")
    counts = "SELECT shingle_hash, count(*) AS doc_count FROM {} AS r GROUP BY shingle_hash"
    sizes = f"""
        SELECT s.doc_key, count(*) AS n,
               count(CASE WHEN c.doc_count > {SHINGLE_MAX_DOCS} THEN 1 END) AS n_common
        FROM {out}_involved AS s JOIN {out}_involved_counts AS c
          ON c.shingle_hash = s.shingle_hash
        GROUP BY s.doc_key"""
    return [(f"{out}_own", shingles_of(only)),
            (f"{out}_hits", rows_holding(f"{out}_own")),
            (f"{out}_own_counts", counts.format(f"{out}_hits")),
            (f"{out}_counted", counted),
            (f"{out}_involved", shingles_of(involved)),
            (f"{out}_involved_counts", counts.format(f"({rows_holding(f'{out}_involved')})")),
            (f"{out}_sizes", sizes),
            (out, _jaccard_test_sql(out, f"SELECT * FROM {out}_counted"))]


def both_directions_sql(once: str) -> str:
    """The text pairs of ``once`` (``doc_key < other_doc_key``) as string keys, each pair in
    both directions: the ``pairs`` input of :func:`.neardup.expand_matches_steps`."""
    return f"""
        SELECT CAST(doc_key AS STRING) AS key, CAST(other_doc_key AS STRING) AS other_key
        FROM {once}
        UNION ALL
        SELECT CAST(other_doc_key AS STRING) AS key, CAST(doc_key AS STRING) AS other_key
        FROM {once}"""
