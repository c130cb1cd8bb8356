"""Reused portfolios and profile photos: the same work shown by several accounts.

Fronted identities are often run by one team that recycles portfolio items (the same
project link, the same screenshot re-encoded, the same description with a few words
changed) and stock or re-used profile photos. The search itself is in
:mod:`...neardup`: near-duplicate images by pHash distance, near-duplicate descriptions by
shingle Jaccard, equal normalized links. Keys used (with their near-duplicates) by more than
``COMMON_KEY_ACCOUNTS`` accounts are stock images, templates or popular sites and are left
out. Only items added before T count (a copy added later is invisible), and only accounts
created before T.

Helper tables made here (read them with ``after=(portfolio_pair_edges,)``):

``portfolio_account_pairs(account_id, other_account_id, link_kind)``
    Identity-graph edges: two accounts showing a shared or near-duplicate item, or
    near-duplicate profile photos. ``link_kind`` is one of ``portfolio_link``,
    ``portfolio_image``, ``portfolio_text``, ``profile_photo``. Both directions, distinct.
    Always made (with profile photo edges only when the folder has no portfolio items).
    Item edges leave out the items' *authors* (below).

``portfolio_item_authors(account_id)``
    Accounts that showed every one of their matched items before any other account did
    (strictly earlier, as of T). Fronts copy real freelancers' work: the freelancer it was
    taken from is the victim, not a ring-mate, so an author's ties to the later copies link
    it to nobody and count no confirmed account against it; the copies stay linked to one
    another, and an account that copied even one item is no author. The sharing counts keep
    every match: they say what is shown twice.

``portfolio_image_hash_pairs(key, other_key)``, ``profile_photo_hash_pairs(key, other_key)``
    Near-duplicate distinct pHashes (within 5 bits), both directions.
"""

from __future__ import annotations

from ... import neardup as nd
from ...dialect import Dialect
from ...registry import FeatureSpec, StageContext, stage
from ..base import confirmed_accounts

LINK_KINDS = ("portfolio_link", "portfolio_image", "portfolio_text", "profile_photo")
AUTHORS_TABLE = "portfolio_item_authors"
_NO_PAIRS = "(SELECT key, key AS other_key FROM portfolio_item_keys WHERE 1 = 0)"


def _hash_pairs(ctx: StageContext, of: str, column: str, out: str) -> str:
    """Near-duplicate distinct hashes in column ``column`` of contract table ``of`` as of
    T, into ``out(key, other_key)`` in both directions."""
    if not ctx.reuses_rows:
        once = nd.run_steps(ctx.create, nd.phash_pairs_steps(ctx.d, ctx.table(of),
                                                             f"{out}_once", column))
    else:
        # Whether two hashes are near-duplicates does not depend on T: the snapshots of a
        # training set search every row's hashes once and keep the pairs present as of T.
        every = nd.run_steps(ctx.once, nd.phash_pairs_steps(ctx.d, ctx.whole_table(of),
                                                            f"{out}_every", column))
        present = f"(SELECT {column} FROM {ctx.table(of)} WHERE {column} IS NOT NULL)"
        once = ctx.create(f"{out}_once", f"""
            SELECT phash, other_phash FROM {every}
            WHERE phash IN {present} AND other_phash IN {present}""")
    return ctx.create(out, f"""
        SELECT phash AS key, other_phash AS other_key FROM {once}
        UNION ALL SELECT other_phash AS key, phash AS other_key FROM {once}""")


PROFILE_PHOTO_FEATURES = (
    FeatureSpec("profile_photo_near_duplicate_account_count",
                "Other accounts whose profile photo is a near-duplicate (NULL without a photo).",
                reason="has the same profile photo as {value:.0f} other accounts",
                focus=("profile_photo", "photo")),
)


# Photos and item images are searched apart: no feature compares a photo with an item, and
# random band collisions grow with the square of the hashes searched together.
@stage(needs=("accounts",), features=PROFILE_PHOTO_FEATURES)
def profile_photo_matches(ctx: StageContext) -> str:
    pairs = _hash_pairs(ctx, "accounts", "profile_photo_phash",
                        "profile_photo_hash_pairs")
    keys = (f"(SELECT profile_photo_phash AS key, account_id, created_at AS added_at "
            f"FROM {ctx.table('accounts')})")
    matches = nd.run_steps(ctx.create,
                           nd.expand_matches_steps(keys, pairs, "profile_photo_expand"))
    ctx.create("profile_photo_account_pairs", f"""
        SELECT DISTINCT account_id, other_account_id FROM {matches}""")
    return f"""
    SELECT a.account_id,
           CASE WHEN a.profile_photo_phash IS NULL THEN NULL
                ELSE coalesce(p.other_count, 0) END AS profile_photo_near_duplicate_account_count
    FROM {ctx.table('accounts')} AS a
    LEFT JOIN (SELECT account_id, count(*) AS other_count FROM profile_photo_account_pairs
               GROUP BY account_id) AS p ON p.account_id = a.account_id
    """


def _item_keys_sql(ctx: StageContext, texts: str) -> str:
    """(kind, key, item_id, account_id, added_at): what each item can be matched on.

    A link that normalizes to nothing keeps a NULL key, which matches nothing.
    """
    items = ctx.table("portfolio_items")
    # Normalizing a link depends on the link alone: once per row (a training set's
    # snapshots share it), read as of T.
    links = ctx.point_in_time(ctx.once("portfolio_link_rows", f"""
        SELECT item_id, account_id, added_at, {nd.normalized_link_sql(ctx.d, "url")} AS key
        FROM {ctx.whole_table("portfolio_items")} WHERE url IS NOT NULL"""), "portfolio_items")
    return f"""
    SELECT 'portfolio_image' AS kind, image_phash AS key, item_id, account_id, added_at
    FROM {items} WHERE image_phash IS NOT NULL
    UNION ALL
    SELECT 'portfolio_link' AS kind, key, item_id, account_id, added_at FROM {links}
    UNION ALL
    SELECT 'portfolio_text' AS kind, CAST(doc_key AS STRING) AS key, item_id, account_id,
           added_at
    FROM {texts} WHERE word_count >= {nd.MIN_TEXT_WORDS}
    """


PORTFOLIO_FEATURES = (
    FeatureSpec("portfolio_item_count",
                "Portfolio items this account added before T.",
                reason="shows {value:.0f} portfolio items", direction=0, fill=0),
    FeatureSpec("portfolio_link_shared_account_count",
                "Other accounts showing one of this account's portfolio links (normalized).",
                reason="shows the same portfolio link as {value:.0f} other accounts",
                fill=0, focus=("portfolio_link", "link")),
    FeatureSpec("portfolio_image_near_duplicate_account_count",
                "Other accounts with a near-duplicate portfolio image (pHash within 5 bits).",
                reason="shows the same portfolio image as {value:.0f} other accounts",
                fill=0, focus=("portfolio_image", "image")),
    FeatureSpec("portfolio_text_near_duplicate_account_count",
                "Other accounts with a near-duplicate portfolio description (shingle Jaccard >= "
                "0.5).",
                reason="shows a near-copy of a portfolio description used by {value:.0f} other "
                       "accounts", fill=0, focus=("portfolio_text", "text")),
    FeatureSpec("portfolio_copy_newer_ratio",
                "Of items matching another account's item, the share this account added later.",
                reason="added {value:.0%} of its reused portfolio items after another account did"),
    FeatureSpec("portfolio_confirmed_match_account_count",
                "Accounts confirmed fraudulent before T sharing a (near-)duplicate portfolio "
                "item (0 for an account that showed each of its shared items first: copied, "
                "not copying).",
                reason="shares portfolio items with {value:.0f} accounts already confirmed "
                       "fraudulent", fill=0),
)


@stage(needs=("accounts", "portfolio_items"), after=(confirmed_accounts,),
       features=PORTFOLIO_FEATURES)
def portfolio_matches(ctx: StageContext) -> str:
    images = _hash_pairs(ctx, "portfolio_items", "image_phash",
                         "portfolio_image_hash_pairs")
    texts, text_pairs = nd.text_pairs_as_of(ctx, "portfolio", "portfolio_items",
                                            "description", "item_id, account_id, added_at")
    ctx.create("portfolio_item_keys", _item_keys_sql(ctx, texts))
    pairs = {"portfolio_image": images, "portfolio_text": text_pairs,
             "portfolio_link": _NO_PAIRS}
    parts = []
    for kind, table in pairs.items():
        keys = (f"(SELECT key, account_id, added_at FROM portfolio_item_keys "
                f"WHERE kind = '{kind}')")
        done = nd.run_steps(ctx.create, nd.expand_matches_steps(keys, table, f"{kind}_expand"))
        parts.append(f"SELECT '{kind}' AS link_kind, key, account_id, other_account_id, "
                     f"other_first_added_at FROM {done}")
    ctx.create("portfolio_item_matches", " UNION ALL ".join(parts))
    # Each matched item with the earliest time another account showed a match of it.
    matched_items = ctx.create("portfolio_matched_items", """
        WITH key_first AS (
            SELECT link_kind, key, account_id, min(other_first_added_at) AS other_first_added_at
            FROM portfolio_item_matches GROUP BY link_kind, key, account_id
        )
        SELECT k.item_id, k.account_id, k.added_at,
               min(f.other_first_added_at) AS other_first_added_at
        FROM portfolio_item_keys AS k
        JOIN key_first AS f
          ON f.link_kind = k.kind AND f.key = k.key AND f.account_id = k.account_id
        GROUP BY k.item_id, k.account_id, k.added_at""")
    authors = ctx.create(AUTHORS_TABLE, f"""
        SELECT account_id FROM {matched_items} GROUP BY account_id
        HAVING max(CASE WHEN added_at < other_first_added_at THEN 0 ELSE 1 END) = 0""")
    # DOUBLE, not a 1.0 literal: Spark would average a DECIMAL and round the ratio.
    newer = (f"CASE WHEN i.added_at > i.other_first_added_at THEN {Dialect.double('1')} "
             f"ELSE {Dialect.double('0')} END")
    return f"""
    WITH counts AS (
        SELECT m.account_id,
               count(DISTINCT CASE WHEN m.link_kind = 'portfolio_link'
                                   THEN m.other_account_id END) AS link_other_count,
               count(DISTINCT CASE WHEN m.link_kind = 'portfolio_image'
                                   THEN m.other_account_id END) AS image_other_count,
               count(DISTINCT CASE WHEN m.link_kind = 'portfolio_text'
                                   THEN m.other_account_id END) AS text_other_count,
               count(DISTINCT CASE WHEN au.account_id IS NULL THEN c.account_id END)
                   AS confirmed_other_count
        FROM portfolio_item_matches AS m
        LEFT JOIN confirmed_accounts AS c ON c.account_id = m.other_account_id
        LEFT JOIN {authors} AS au ON au.account_id = m.account_id
        GROUP BY m.account_id
    ),
    copies AS (
        SELECT i.account_id, avg({newer}) AS copy_newer_ratio
        FROM {matched_items} AS i GROUP BY i.account_id
    ),
    items AS (
        SELECT account_id, count(*) AS item_count
        FROM {ctx.table('portfolio_items')} GROUP BY account_id
    )
    SELECT i.account_id, i.item_count AS portfolio_item_count,
           coalesce(c.link_other_count, 0) AS portfolio_link_shared_account_count,
           coalesce(c.image_other_count, 0) AS portfolio_image_near_duplicate_account_count,
           coalesce(c.text_other_count, 0) AS portfolio_text_near_duplicate_account_count,
           p.copy_newer_ratio AS portfolio_copy_newer_ratio,
           coalesce(c.confirmed_other_count, 0) AS portfolio_confirmed_match_account_count
    FROM items AS i
    LEFT JOIN counts AS c ON c.account_id = i.account_id
    LEFT JOIN copies AS p ON p.account_id = i.account_id
    """


@stage(needs=("accounts",), after=(profile_photo_matches, portfolio_matches))
def portfolio_pair_edges(ctx: StageContext) -> str:
    """Makes ``portfolio_account_pairs`` (see the module docstring)."""
    edges = ("SELECT account_id, other_account_id, 'profile_photo' AS link_kind "
             "FROM profile_photo_account_pairs")
    if ctx.has("portfolio_items"):
        edges += (" UNION ALL SELECT m.account_id, m.other_account_id, m.link_kind "
                  "FROM portfolio_item_matches AS m "
                  f"LEFT JOIN {AUTHORS_TABLE} AS a1 ON a1.account_id = m.account_id "
                  f"LEFT JOIN {AUTHORS_TABLE} AS a2 ON a2.account_id = m.other_account_id "
                  "WHERE a1.account_id IS NULL AND a2.account_id IS NULL")
    ctx.create("portfolio_account_pairs",
               f"SELECT DISTINCT account_id, other_account_id, link_kind FROM ({edges}) AS e")
    return ""


PORTFOLIO_STAGES = (portfolio_matches, profile_photo_matches, portfolio_pair_edges)
