"""Near-duplicate search in SQL: perceptual hashes, free text and links.

Every function here returns SQL text in a :class:`~.dialect.Dialect`, so the same search
runs on DuckDB and on Spark. Arguments are table names or subqueries the caller built from
its own views; marketplace values never enter the SQL text.

A search is a list of *steps* ``(table name, SELECT)`` that the caller materializes in
order (``ctx.create`` in a stage); the last step holds the result. Steps, not one query
with CTEs, because Spark inlines every CTE reference: a chain of CTEs each read several
times grew to thousands of Spark jobs on 40 rows.

Images (pHash, 64 bits as 16 hex characters): two images are near-duplicates when their
hashes differ in at most :data:`PHASH_MAX_DISTANCE_BITS` bits. All such pairs are found
without comparing all pairs by *multi-index hashing*: the hash is cut into 3 bands of 20,
20 and 24 bits; with at most 5 differing bits, some band differs in at most 1 bit
(pigeonhole: 3 bands x 2 bits > 5). Each distinct hash is indexed by (band, band value) and
probed with its exact band value and every 1-bit flip of it; candidates are verified on the
full 64 bits. At 1M random hashes that is ~67M probes and ~20M candidates (see
``benchmarks/neardup.py``).

Text: normalized (lower case, every character outside a-z and 0-9 is a separator, so
non-Latin scripts are not compared), cut into word 3-gram shingles of its first
:data:`MAX_TEXT_WORDS` words. Two texts are near-duplicates when the Jaccard similarity of
their *informative* shingle sets is at least :data:`TEXT_JACCARD_MIN` and they share at least
:data:`TEXT_MIN_SHARED_SHINGLES` of them. A shingle that more
than :data:`SHINGLE_MAX_DOCS` distinct texts contain is boilerplate ("feel free to contact
me") and counts on neither side: it says nothing about copying, and leaving it out bounds
the join that finds candidates. The pair search itself is in :mod:`.text_pairs`: the whole
search joins only each text's rarest shingles (prefix filtering), a search for a few texts
joins their shingles with everyone's. An earlier
version also counted shared boilerplate in an exact verification; on generated data
whose descriptions share many stock phrases that verification joined millions of
candidate pairs with every common shingle and took 15 s at 100k accounts, for pairs whose
informative parts did not match anyway. We chose this over MinHash/LSH because it is
exact given the cap, needs no tuning of band counts against false negatives, and costs
one hash per shingle instead of one per shingle and permutation. Shingles
are hashed with ``Dialect.fast_hash``, not the md5-based ``stable_hash``: 10x cheaper (the
largest cost at 1M texts), and since a shingle hash is only joined and counted, both
engines find the same pairs and Jaccards unless two shingles collide in 60 bits.

Links: lower case, without scheme, ``www.``, query string, fragment and trailing slashes.

Expansion (:func:`expand_matches_steps`): the searches above work on distinct keys (hashes,
texts, links); the expansion turns key pairs into account pairs, leaving out *common* keys:
a key whose near-duplicate neighbourhood is used by more than :data:`COMMON_KEY_ACCOUNTS`
distinct accounts is a stock image, template text or popular site, not evidence of reuse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .dialect import Dialect
from .text_pairs import SHINGLE_MAX_DOCS as SHINGLE_MAX_DOCS
from .text_pairs import TEXT_JACCARD_MIN as TEXT_JACCARD_MIN
from .text_pairs import TEXT_MIN_SHARED_SHINGLES as TEXT_MIN_SHARED_SHINGLES
from .text_pairs import Step, both_directions_sql, shingle_pairs_steps, targeted_pairs_steps

if TYPE_CHECKING:
    from .declarations import StageContext

PHASH_MAX_DISTANCE_BITS = 5
# (first hex character, hex characters): 20, 20 and 24 bits. 3 bands x 2 bits > 5 bits.
PHASH_BANDS: tuple[tuple[int, int], ...] = ((1, 5), (6, 5), (11, 6))
COMMON_IMAGE_ACCOUNTS = 25
COMMON_KEY_ACCOUNTS = COMMON_IMAGE_ACCOUNTS

SHINGLE_WORDS = 3
MIN_TEXT_WORDS = 6
# Only the first words are compared: bounds the shingles per text (and the cost) whatever
# the description length; a copy is recognizable from its opening.
MAX_TEXT_WORDS = 100


def run_steps(create: Callable[[str, str], object], steps: list[Step]) -> str:
    """Materialize ``steps`` in order with ``create(name, sql)``; returns the result table."""
    for name, sql in steps:
        create(name, sql)
    return steps[-1][0]


# -- perceptual hashes -----------------------------------------------------------------------
def phash_pairs_steps(d: Dialect, hashes: str, out: str, column: str = "phash") -> list[Step]:
    """Pairs of distinct pHashes within :data:`PHASH_MAX_DISTANCE_BITS` bits, into ``out``.

    ``hashes`` is a table or parenthesised subquery with valid 16-hex-character hashes in
    ``column`` (duplicates and NULLs allowed). ``out`` gets rows ``(phash, other_phash,
    distance_bits)`` with ``phash < other_phash``, each pair once.
    """
    distinct = f"""
        SELECT phash, {d.hex_to_int('substr(phash, 1, 8)')} AS hi,
               {d.hex_to_int('substr(phash, 9, 8)')} AS lo
        FROM (SELECT DISTINCT {column} AS phash FROM {hashes} AS src
              WHERE {column} IS NOT NULL) AS u"""
    # One BIGINT join key per (band, value): band values have at most 24 bits.
    bands = " UNION ALL ".join(
        f"SELECT phash, hi, lo, {i} AS band, "
        f"{d.hex_to_int(f'substr(phash, {start}, {length})')} AS v FROM {out}_hashes"
        for i, (start, length) in enumerate(PHASH_BANDS))
    band_bits = " UNION ALL ".join(
        f"SELECT {i} AS band, k FROM {d.integer_range(0, 4 * length)} AS r{i}"
        for i, (_, length) in enumerate(PHASH_BANDS))
    flipped = f"(x.band * 16777216 + {d.xor('x.v', d.shift_left_one('f.k'))})"
    distance = (f"({d.bit_count(d.xor('p.hi', 'b.hi'))} + "
                f"{d.bit_count(d.xor('p.lo', 'b.lo'))})")
    pairs = f"""
        SELECT DISTINCT phash, other_phash, distance_bits FROM (
            SELECT p.phash, b.phash AS other_phash, {distance} AS distance_bits
            FROM (SELECT phash, hi, lo, bkey FROM {out}_bands
                  UNION ALL
                  SELECT x.phash, x.hi, x.lo, {flipped} AS bkey
                  FROM {out}_bands AS x JOIN ({band_bits}) AS f ON f.band = x.band) AS p
            JOIN {out}_bands AS b ON b.bkey = p.bkey AND b.phash > p.phash
            WHERE {distance} <= {PHASH_MAX_DISTANCE_BITS}
        ) AS verified"""
    return [
        (f"{out}_hashes", distinct),
        (f"{out}_bands",
         f"SELECT phash, hi, lo, band, v, band * 16777216 + v AS bkey FROM ({bands}) AS x"),
        (out, pairs),
    ]


# -- text ------------------------------------------------------------------------------------
def normalized_text_sql(d: Dialect, text: str) -> str:
    """Lower case, every run of characters outside a-z/0-9 as one space, trimmed."""
    return f"trim({d.regexp_replace_all(f'lower({text})', '[^a-z0-9]+', ' ')})"


def text_words_sql(d: Dialect, normalized: str) -> str:
    """The list of words of a normalized text."""
    return d.split(normalized, " ")


def text_key_sql(d: Dialect, normalized: str) -> str:
    """The key of a distinct normalized text: a stable 60-bit hash (BIGINT)."""
    return d.stable_hash(normalized)


def text_shingles_sql(d: Dialect, docs: str) -> str:
    """``(doc_key, shingle_hash)``: the distinct shingles of the first
    :data:`MAX_TEXT_WORDS` words of each text of ``docs`` (a table or parenthesised
    subquery with ``doc_key`` and ``words``, a list from :func:`text_words_sql`); texts under
    :data:`MIN_TEXT_WORDS` words have none. A function of each text alone."""
    # Hashed before deduplication: the same rows (up to 60-bit collisions within a text,
    # which the search tolerates anyway) for a quarter less time than distinct strings.
    hashes = d.list_distinct(d.word_shingles("words", SHINGLE_WORDS, hashed=True))
    return f"""
        SELECT doc_key, {d.explode(hashes)} AS shingle_hash
        FROM (SELECT doc_key, {d.list_head('words', MAX_TEXT_WORDS)} AS words
              FROM {docs} AS src
              WHERE {d.list_size('words')} >= {MIN_TEXT_WORDS}) AS head"""


def text_pairs_steps(d: Dialect, docs: str, out: str) -> list[Step]:
    """Pairs of distinct texts with shingle Jaccard >= :data:`TEXT_JACCARD_MIN`, into ``out``.

    ``docs`` is a table or parenthesised subquery with columns ``doc_key`` (unique BIGINT)
    and ``words`` (a list from :func:`text_words_sql`); texts under :data:`MIN_TEXT_WORDS`
    words are skipped, and only the first :data:`MAX_TEXT_WORDS` words are compared.
    ``out`` gets ``(doc_key, other_doc_key, jaccard)`` with ``doc_key < other_doc_key``,
    each pair once.
    """
    return shingle_pairs_steps(f"({text_shingles_sql(d, docs)})", out)


def text_pairs_as_of(ctx: StageContext, name: str, of: str, text: str, keep: str, *,
                     targeted: bool = False) -> tuple[str, str]:
    """Near-duplicate texts of column ``text`` of contract table ``of`` as of T.

    Normalizing a text and cutting it into shingles depend on the text alone, so both are
    made once for every row (:meth:`StageContext.once`; a training set's snapshots share
    them) and only the rows that exist as of T are searched. ``keep`` lists the columns of
    ``of`` to keep, its time and account columns included. Returns the view of its texts as
    of T (``keep`` columns, ``doc_key``, ``norm``, ``word_count``) and the table
    ``{name}_text_pairs`` of near-duplicate text keys in both directions (the ``pairs`` of
    :func:`expand_matches_steps`). ``targeted``: the caller's values for an account depend
    only on its own texts' matches, so when the pass wants a few accounts
    (:attr:`StageContext.targets`) only the pairs their expansion needs are searched.
    """
    d = ctx.d
    # No filter on ``norm`` here: DuckDB would push it into the scan and run the regex twice.
    rows = ctx.once(f"{name}_text_rows", f"""
        SELECT {keep}, {text_key_sql(d, 'norm')} AS doc_key, norm,
               {d.list_size(text_words_sql(d, 'norm'))} AS word_count
        FROM (SELECT {keep}, {normalized_text_sql(d, text)} AS norm
              FROM {ctx.whole_table(of)} WHERE {text} IS NOT NULL) AS t""")
    docs = f"""
        (SELECT doc_key, {text_words_sql(d, 'norm')} AS words
         FROM (SELECT doc_key, min(norm) AS norm FROM {rows}
               WHERE word_count >= {MIN_TEXT_WORDS} GROUP BY doc_key) AS u)"""
    shingles = ctx.once(f"{name}_text_shingles", text_shingles_sql(d, docs))
    texts = ctx.point_in_time(rows, of)
    present_keys = f"SELECT doc_key FROM {texts} WHERE word_count >= {MIN_TEXT_WORDS}"
    pairs = f"{name}_text_pairs"
    if targeted and ctx.targets is not None:
        sources = f"{present_keys} AND account_id IN (SELECT account_id FROM {ctx.targets})"
        return texts, run_steps(ctx.create, targeted_pairs_steps(shingles, present_keys,
                                                                 sources, pairs))
    present = f"(SELECT doc_key, shingle_hash FROM {shingles} WHERE doc_key IN ({present_keys}))"
    whole = ctx.every_row_exists(of)  # a pass as of now: every text exists, nothing to filter
    once = run_steps(ctx.create, shingle_pairs_steps(shingles if whole else present,
                                                     f"{name}_text_once", stored=whole))
    return texts, ctx.create(pairs, both_directions_sql(once))


# -- links -----------------------------------------------------------------------------------
def normalized_link_sql(d: Dialect, url: str) -> str:
    """A link without case, scheme, ``www.``, query string, fragment or trailing slashes.

    ``HTTPS://www.GitHub.com/x/?utm=1`` becomes ``github.com/x``; an empty result is NULL.
    """
    text = f"lower(trim({url}))"
    text = d.regexp_replace_all(text, "^[a-z][a-z0-9+.-]*://", "")
    text = d.regexp_replace_all(text, "^www[.]", "")
    text = d.regexp_replace_all(text, "[?#].*$", "")
    text = d.regexp_replace_all(text, "/+$", "")
    return f"nullif(trim({text}), '')"


# -- from key pairs to account pairs ---------------------------------------------------------
def expand_matches_steps(keys: str, pairs: str, out: str,
                         cap: int = COMMON_KEY_ACCOUNTS, accounts: str | None = None
                         ) -> list[Step]:
    """Account pairs behind key pairs, leaving out common keys, into ``out``.

    ``keys``: rows ``(key, account_id, added_at)`` (a key is a hash, text key or link of an
    item of the account). ``pairs``: rows ``(key, other_key)`` of near-duplicate distinct
    keys, in both directions, without ``key = other_key`` (equal keys always match).
    A key is common when the accounts using it or any near-duplicate of it number more
    than ``cap``; pairs touching a common key are left out, which also bounds the output to
    ``cap`` other accounts per key. The common keys are in ``{out}_common(key)``.
    ``out`` gets ``(key, account_id, other_account_id, other_first_added_at)``: for each key
    an account uses, every other account using it or a near-duplicate, with the earliest
    time that other account added such a key. ``accounts``: a table of the accounts whose
    rows are wanted (``pairs`` need only hold what their keys' expansion reads, see
    :func:`targeted_pairs_steps`).
    """
    ka = f"""
        SELECT key, account_id, min(added_at) AS first_added_at
        FROM {keys} AS k WHERE key IS NOT NULL GROUP BY key, account_id"""
    own = f"SELECT key, count(*) AS account_count FROM {out}_ka GROUP BY key"
    nb = f"""
        SELECT p.key, p.other_key FROM {pairs} AS p
        JOIN {out}_own AS o1 ON o1.key = p.key JOIN {out}_own AS o2 ON o2.key = p.other_key
        UNION ALL
        SELECT key, key AS other_key FROM {out}_own"""
    # A neighbour above the cap makes a key common at once; the others are counted
    # exactly, which reads at most ``cap`` accounts per neighbour.
    common = f"""
        SELECT nb.key FROM {out}_nb AS nb JOIN {out}_own AS o ON o.key = nb.other_key
        WHERE o.account_count > {cap}
        UNION
        SELECT key FROM (
            SELECT nb.key, count(DISTINCT ka.account_id) AS account_count
            FROM {out}_nb AS nb
            JOIN {out}_own AS o ON o.key = nb.other_key AND o.account_count <= {cap}
            JOIN {out}_ka AS ka ON ka.key = nb.other_key
            GROUP BY nb.key) AS reach
        WHERE account_count > {cap}"""
    wanted = ("" if accounts is None
              else f"WHERE a.account_id IN (SELECT account_id FROM {accounts})")
    usable = (f"(SELECT o.key FROM {out}_own AS o LEFT JOIN {out}_common AS c "
              "ON c.key = o.key WHERE c.key IS NULL)")
    matches = f"""
        SELECT a.key, a.account_id, b.account_id AS other_account_id,
               min(b.first_added_at) AS other_first_added_at
        FROM {out}_nb AS n
        JOIN {usable} AS u1 ON u1.key = n.key
        JOIN {usable} AS u2 ON u2.key = n.other_key
        JOIN {out}_ka AS a ON a.key = n.key
        JOIN {out}_ka AS b ON b.key = n.other_key AND b.account_id <> a.account_id
        {wanted}
        GROUP BY a.key, a.account_id, b.account_id"""
    return [(f"{out}_ka", ka), (f"{out}_own", own), (f"{out}_nb", nb),
            (f"{out}_common", common), (out, matches)]
