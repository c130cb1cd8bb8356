"""Text near-duplicates as of T (:mod:`.neardup` searches one set of texts).

A stage reads the texts that exist as of T. Normalizing and shingling a text depend on the
text alone, so both are made once per row (a training set's snapshots share them). Which
shingles are boilerplate depends on T (a shingle's texts as of T), so a training set, which
searches at every snapshot, also ranks each shingle's texts by when they appear, once
(:func:`shingle_history_steps`): a shingle pairs texts as of T once its second text exists
and is boilerplate once its ``SHINGLE_MAX_DOCS + 1``-th does. One feature pass counts the
shingles' texts as of T directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import contract
from .errors import FeatureError
from .neardup import (
    MIN_TEXT_WORDS,
    SHINGLE_MAX_DOCS,
    Step,
    both_directions_sql,
    normalized_text_sql,
    run_steps,
    shingle_pairs_steps,
    sizes_sql,
    targeted_pairs_steps,
    text_key_sql,
    text_shingles_sql,
    text_words_sql,
    verified_pairs_sql,
)

if TYPE_CHECKING:
    from .declarations import StageContext


def shingle_history_steps(shingles: str, first: str, out: str) -> list[Step]:
    """What the search as of any T needs, made once for every text (a training set's
    snapshots share it). ``shingles``: ``(doc_key, shingle_hash)`` of every text; ``first``:
    ``(doc_key, first_at)``, when each text first exists. ``{out}_docs`` gets each text's
    shingle count and ``first_at``; ``{out}_shared`` the shingles ever in 2+ texts, per
    text, with the times from which they are in 2 texts (``pairable_at``) and in more than
    :data:`SHINGLE_MAX_DOCS` (``common_at``, NULL if never): a shingle's text count as of
    T is the number of its texts with ``first_at`` before T, so both are order statistics
    of those times."""
    rank = f"""
        SELECT shingle_hash, first_at,
               row_number() OVER (PARTITION BY shingle_hash ORDER BY first_at) AS text_rank
        FROM {out}_postings_all"""
    return [
        (f"{out}_postings_all", f"""
            SELECT s.doc_key, s.shingle_hash, f.first_at
            FROM {shingles} AS s JOIN {first} AS f ON f.doc_key = s.doc_key"""),
        (f"{out}_docs", f"""
            SELECT doc_key, min(first_at) AS first_at, count(*) AS n
            FROM {out}_postings_all GROUP BY doc_key"""),
        (f"{out}_times", f"""
            SELECT shingle_hash,
                   max(CASE WHEN text_rank = 2 THEN first_at END) AS pairable_at,
                   max(CASE WHEN text_rank = {SHINGLE_MAX_DOCS + 1} THEN first_at END)
                       AS common_at
            FROM ({rank}) AS r
            WHERE text_rank IN (2, {SHINGLE_MAX_DOCS + 1})
            GROUP BY shingle_hash"""),
        (f"{out}_shared", f"""
            SELECT p.doc_key, p.shingle_hash, p.first_at, t.pairable_at, t.common_at
            FROM {out}_postings_all AS p
            JOIN {out}_times AS t ON t.shingle_hash = p.shingle_hash"""),
    ]


def postings_as_of_steps(history: str, as_of_sql: str, out: str) -> list[Step]:
    """``{out}_postings`` and ``{out}_sizes`` as of T from :func:`shingle_history_steps`'s
    ``history``: the same rows :func:`shingle_pairs_steps` makes from the shingles of the
    texts that exist as of T, without counting every shingle's texts again."""
    postings = f"""
        SELECT doc_key, shingle_hash,
               coalesce(common_at < {as_of_sql}, FALSE) AS is_common
        FROM {history}_shared
        WHERE first_at < {as_of_sql} AND pairable_at < {as_of_sql}"""
    present = (f"(SELECT doc_key, n FROM {history}_docs "
               f"WHERE first_at < {as_of_sql})")
    return [(f"{out}_postings", postings), (f"{out}_sizes", sizes_sql(present, out))]


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
    pairs = f"{name}_text_pairs"
    out = pairs if targeted and ctx.targets is not None else f"{name}_text_once"
    if ctx.reuses_rows:
        # Ranking each shingle's texts by time costs about one count of them, and then
        # serves every snapshot of the training set.
        first = ctx.once(f"{name}_text_first", _first_seen_sql(rows, of))
        history = f"{name}_text_history"
        run_steps(ctx.once, shingle_history_steps(shingles, first, history))
        run_steps(ctx.create, postings_as_of_steps(history, ctx.as_of_sql, out))
    else:
        present = f"""
            (SELECT doc_key, shingle_hash FROM {shingles}
             WHERE doc_key IN (SELECT doc_key FROM {texts}
                               WHERE word_count >= {MIN_TEXT_WORDS}))"""
        run_steps(ctx.create, shingle_pairs_steps(present, out)[:-1])
    if out == pairs:
        sources = (f"SELECT doc_key FROM {texts} WHERE word_count >= {MIN_TEXT_WORDS} "
                   f"AND account_id IN (SELECT account_id FROM {ctx.targets})")
        return texts, run_steps(ctx.create, targeted_pairs_steps(sources, pairs))
    ctx.create(out, verified_pairs_sql(out, "b.doc_key > a.doc_key"))
    return texts, ctx.create(pairs, both_directions_sql(out))


def _first_seen_sql(rows: str, of: str) -> str:
    """``(doc_key, first_at)``: the first time a text of ``rows`` (a per-row derivation of
    contract table ``of``) exists as of some T. A row exists as of T when it is dated before
    T and its accounts were created before T (the point-in-time rule of the pass), so from
    the latest of those times on."""
    table = contract.table(of)
    if table.time_column is None or not table.column_by_name[table.time_column].required:
        raise FeatureError(f"texts of {of!r} need a required time column to be searched "
                           "as of T")
    joins, times = [], [table.time_column]
    for i, column in enumerate(table.account_columns):
        joins.append(f"JOIN accounts AS a{i} ON a{i}.account_id = r.{column}")
        times.append(f"a{i}.created_at")
    appears = f"greatest({', '.join(f'r.{t}' if '.' not in t else t for t in times)})"
    return f"""
        SELECT r.doc_key, min({appears}) AS first_at
        FROM {rows} AS r {' '.join(joins)}
        WHERE r.word_count >= {MIN_TEXT_WORDS}
        GROUP BY r.doc_key"""
