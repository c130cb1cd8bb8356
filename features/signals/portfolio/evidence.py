"""Evidence behind portfolio and profile-photo reasons: which items match whose.

The matching is the portfolio family's own: with the helper tables kept by
:func:`~accountrisk.scoring.evidence.build_features_for_evidence` it reads them (exactly the
matches the features counted); otherwise :mod:`.neighbourhood` recomputes them around the
requested accounts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from typing import Any

import duckdb

from accountrisk.features import neardup as nd
from accountrisk.features.dialect import DUCKDB
from accountrisk.scoring.evidence_tools import (
    MAX_LISTED_ACCOUNTS,
    MAX_LISTED_ITEMS,
    confirmed_before,
    helper,
    helpers_ready,
    plural,
    rows,
    tables,
)
from accountrisk.scoring.models import Evidence, LinkedAccount, MatchedItem

from . import neighbourhood

_IDS = "account_id IN (SELECT unnest($ids::VARCHAR[]))"
_MATCH = {"portfolio_link": "link", "portfolio_image": "image", "portfolio_text": "text"}
# The portfolio family's helper tables read here: its item keys (kind, key, item_id,
# account_id, added_at), key matches (link_kind, key, account_id, other_account_id, ...) and
# photo account pairs. Near-duplicate pairs of keys are re-checked here, not read.
_TABLES = neighbourhood.TABLES
# Kept by build_features_for_evidence: those, and the near-copied description pairs.
KEPT_TABLES = (*_TABLES, "portfolio_text_pairs")
TEXTS_NOT_LISTED = ("near-copied descriptions are not listed: build the features with "
                    "build_features_for_evidence to see them")


def portfolio_evidence(con: duckdb.DuckDBPyConnection, as_of: datetime, ids: list[str]
                       ) -> dict[str, Evidence]:
    """Matched portfolio items and profile photos of each account, with the other account
    and item, which came first, and how close the match is."""
    present = tables(con)
    if helpers_ready(con, as_of, "profile_photo_account_pairs"):
        names = {n: helper(n) for n in KEPT_TABLES}
        names = {n: t for n, t in names.items() if t in present}
        return _collect(con, as_of, ids, names)
    cursor = con.cursor()
    try:
        names = neighbourhood.recompute(cursor, as_of, ids, present)
        texts = (neighbourhood.text_matches(cursor, as_of, ids)
                 if "portfolio_items" in present else [])
        found = _collect(cursor, as_of, ids, names, texts or [])
        if texts is None:
            found = {a: e.model_copy(update={"notes": e.notes + [TEXTS_NOT_LISTED]})
                     for a, e in found.items()}
            described = {r["account_id"] for r in rows(
                cursor, "SELECT DISTINCT account_id FROM portfolio_items WHERE added_at < $t "
                        f"AND description IS NOT NULL AND {_IDS}", {"t": as_of, "ids": ids})}
            found.update({a: Evidence(notes=[TEXTS_NOT_LISTED]) for a in described
                          if a not in found})
        return found
    finally:
        cursor.close()


# -- reading the match tables ----------------------------------------------------------------
def _collect(con: duckdb.DuckDBPyConnection, as_of: datetime, ids: list[str],
             names: dict[str, str], texts: list[dict[str, Any]] | None = None
             ) -> dict[str, Evidence]:
    """Evidence from the match tables ``names``; ``texts`` replaces their text matches."""
    params = {"t": as_of, "ids": ids}
    found = []
    if "portfolio_item_keys" in names and "portfolio_item_matches" in names:
        found = rows(con, _item_matches_sql(names), params)
        if texts is not None:
            found = [m for m in found if m["kind"] != "portfolio_text"] + texts
        # The kept text-pair table is the search's own verdict (Jaccard over informative
        # shingles); without it, candidates are re-checked here.
        found = _near_texts(con, found, verified="portfolio_text_pairs" in names)
    photos = rows(con, f"""
        SELECT p.account_id, 'profile_photo' AS kind, 'profile photo' AS item_id,
               p.other_account_id, 'profile photo' AS other_item_id,
               a.created_at AS added_at, b.created_at AS other_added_at,
               {_distance('a.profile_photo_phash', 'b.profile_photo_phash')} AS distance_bits,
               NULL AS key, NULL AS other_key
        FROM {names['profile_photo_account_pairs']} AS p
        JOIN accounts AS a ON a.account_id = p.account_id
        JOIN accounts AS b ON b.account_id = p.other_account_id
        WHERE p.{_IDS}""", params)
    matches = found + photos
    confirmed = confirmed_before(con, as_of, sorted({m["other_account_id"] for m in matches}))
    titles = {}
    if found:
        item_ids = sorted({str(m[k]) for m in found for k in ("item_id", "other_item_id")})
        titles = {r["item_id"]: r["title"] for r in rows(
            con, "SELECT item_id, title FROM portfolio_items "
                 "WHERE item_id IN (SELECT unnest($items::VARCHAR[]))", {"items": item_ids})}
    out = {}
    for account in ids:
        mine = [m for m in matches if m["account_id"] == account]
        if mine:
            out[account] = _evidence(mine, confirmed, titles)
    return out


def _distance(a: str, b: str) -> str:
    """Bits that differ between two 16-hex-character pHashes."""
    d = DUCKDB
    halves = [(f"substr({a}, {i}, 8)", f"substr({b}, {i}, 8)") for i in (1, 9)]
    return " + ".join(d.bit_count(d.xor(d.hex_to_int(x), d.hex_to_int(y))) for x, y in halves)


def _item_matches_sql(names: dict[str, str]) -> str:
    """Own items whose key matched another account's, with that account's items of the same
    kind that are the same key or, for images, within the near-duplicate distance (texts
    are checked afterwards, in :func:`_near_texts`)."""
    keys, matches = names["portfolio_item_keys"], names["portfolio_item_matches"]
    image = "o.kind = 'portfolio_image'"
    distance = _distance("o.key", "x.key")
    text_pair = "o.kind = 'portfolio_text'"
    if "portfolio_text_pairs" in names:
        text_pair += (f" AND EXISTS (SELECT 1 FROM {names['portfolio_text_pairs']} AS tp "
                      "WHERE tp.key = o.key AND tp.other_key = x.key)")
    return f"""
    WITH own AS (SELECT kind, key, item_id, account_id, added_at FROM {keys} WHERE {_IDS}),
    matched AS (
        SELECT DISTINCT link_kind, key, account_id, other_account_id FROM {matches}
        WHERE {_IDS}
    )
    SELECT o.account_id, o.kind, o.item_id, x.account_id AS other_account_id,
           x.item_id AS other_item_id, o.added_at, x.added_at AS other_added_at,
           CASE WHEN {image} THEN {distance} END AS distance_bits, o.key, x.key AS other_key
    FROM own AS o
    JOIN matched AS m ON m.link_kind = o.kind AND m.key = o.key AND m.account_id = o.account_id
    JOIN {keys} AS x ON x.account_id = m.other_account_id AND x.kind = o.kind
    WHERE x.key = o.key OR ({text_pair})
       OR ({image} AND {distance} <= {nd.PHASH_MAX_DISTANCE_BITS})
    ORDER BY o.account_id, o.item_id, x.account_id, x.item_id"""


def _shingles(text: str | None) -> set[tuple[str, ...]]:
    """Word shingles of a description, normalized as the near-duplicate search does."""
    words = re.sub(r"[^a-z0-9]+", " ", (text or "").lower()).strip().split()
    return {tuple(words[i:i + nd.SHINGLE_WORDS])
            for i in range(len(words) - nd.SHINGLE_WORDS + 1)}


def _near_texts(con: duckdb.DuckDBPyConnection, found: list[dict[str, Any]], *,
                verified: bool = False) -> list[dict[str, Any]]:
    """Keep text candidates whose descriptions are near-copies (shingle Jaccard at least the
    search's threshold), with the Jaccard for the detail."""
    texts = [m for m in found if m["kind"] == "portfolio_text" and m.get("jaccard") is None
             and m["key"] != m["other_key"]]
    for m in found:
        if m.get("jaccard") is None:
            m["jaccard"] = 1.0 if m["kind"] == "portfolio_text" else None
    if not texts:
        return found
    ids = sorted({str(m[k]) for m in texts for k in ("item_id", "other_item_id")})
    shingled = {r["item_id"]: _shingles(r["description"]) for r in rows(
        con, "SELECT item_id, description FROM portfolio_items "
             "WHERE item_id IN (SELECT unnest($items::VARCHAR[]))", {"items": ids})}
    for m in texts:
        a = shingled.get(str(m["item_id"]), set())
        b = shingled.get(str(m["other_item_id"]), set())
        m["jaccard"] = len(a & b) / len(a | b) if a | b else 0.0
    if verified:  # the Jaccard over all shingles is then only shown, not a filter
        return found
    return [m for m in found if m["jaccard"] is None or m["jaccard"] >= nd.TEXT_JACCARD_MIN]


def _detail(m: dict[str, Any]) -> str:
    if m["kind"] in ("portfolio_image", "profile_photo"):
        bits = int(m["distance_bits"])
        return "same image hash" if bits == 0 else f"pHash {plural(bits, 'bit')} apart"
    if m["kind"] == "portfolio_text":
        jaccard = float(m["jaccard"])
        return "same description" if jaccard >= 1 else f"shingle Jaccard {jaccard:.2f}"
    link = str(m["key"] or "")
    return f"same link {link[:57] + '…' if len(link) > 60 else link}"


def _evidence(mine: list[dict[str, Any]], confirmed: set[str], titles: dict[str, str | None]
              ) -> Evidence:
    items = []
    shared: dict[tuple[str, str], set[str]] = defaultdict(set)
    order_key = ("account_id", "item_id", "other_account_id", "other_item_id", "kind")
    for m in sorted(mine, key=lambda m: tuple(str(m[k]) for k in order_key)):
        newer = None
        if m["added_at"] is not None and m["other_added_at"] is not None:
            newer = None if m["added_at"] == m["other_added_at"] else bool(
                m["added_at"] > m["other_added_at"])
        items.append(MatchedItem(item_id=str(m["item_id"]),
                                 other_account_id=m["other_account_id"],
                                 other_item_id=str(m["other_item_id"]),
                                 match=_MATCH.get(m["kind"], "photo"), this_is_newer=newer,
                                 detail=_detail(m), title=titles.get(str(m["item_id"])),
                                 other_title=titles.get(str(m["other_item_id"]))))
        shared[(m["other_account_id"], m["kind"])].add(str(m["item_id"]))
    order = sorted(shared, key=lambda k: (k[0] not in confirmed, k[0], k[1]))
    accounts = [LinkedAccount(account_id=other, shared=sorted(shared[(other, kind)]),
                              link_kind=kind, is_confirmed_fraud=other in confirmed)
                for other, kind in order[:MAX_LISTED_ACCOUNTS]]
    notes = []
    newer_count = sum(1 for i in items if i.this_is_newer)
    if newer_count:
        notes.append(f"{newer} of {len(items)} matches: this account's copy came later")
    if len(order) > MAX_LISTED_ACCOUNTS:
        notes.append(f"{len(order) - MAX_LISTED_ACCOUNTS} more matching accounts not listed")
    if len(items) > MAX_LISTED_ITEMS:
        notes.append(f"{len(items) - MAX_LISTED_ITEMS} more matched items not listed")
    return Evidence(accounts=accounts, items=items[:MAX_LISTED_ITEMS], notes=notes)
