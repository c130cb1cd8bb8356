"""Writers of the account-level and small tables (everything but sessions and activity)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..features.contract import LABEL_SOURCES, PAYOUT_METHODS, arrow_schema
from . import geo
from .cells import cell_photos, without_fronted_pairs
from .frame import Cols
from .identity import GROUND_TRUTH_SCHEMA, Names, attributes, ground_truth
from .links import LINK_KINDS, build_links
from .money import payout_methods, payouts
from .portfolio import STOCK_SHARE, build_items, profile_photos
from .randomness import (
    PART_ATTRIBUTES,
    PART_CELLS,
    PART_LINKS,
    PART_MONEY,
    PART_PORTFOLIO,
    PART_TEXT,
    child_rng,
    entity,
    hex16,
    keyed_hash,
)
from .text import as_typed, render
from .writer import TableWriter, numbers, strings, timestamps, write_whole

NS_ITEM = 60
ITEM_CHUNK = 200_000
IMAGE_SHARE = 0.9
_COUNTRIES = pa.array(list(geo.COUNTRY_CODES), pa.string())
_ZONES = pa.array(list(geo.ZONES), pa.string())


def _ids(ids: pa.Array, acct: np.ndarray) -> pa.Array:
    return ids.take(pa.array(np.asarray(acct, np.int64)))


def write_accounts(world, out_dir: Path, ids: pa.Array) -> tuple[int, pa.Array]:
    """accounts.parquet; returns its row count and the link handles derived from the names.
    Isolated cells (``world.cells``) get fresh photos of their own."""
    plan = world.plan
    rng = child_rng(world.seed, PART_TEXT)
    names = Names(plan, rng)
    photo, has_photo = profile_photos(plan, world.rings, child_rng(world.seed, PART_PORTFOLIO, 1))
    if world.cells:
        photo, has_photo = cell_photos(photo, has_photo, plan, child_rng(world.seed, PART_CELLS, 3))
    rows = write_whole(
        out_dir,
        "accounts",
        {
            "account_id": ids,
            "created_at": timestamps(plan.created_sec),
            "claimed_country": strings(_COUNTRIES, plan.country),
            "claimed_timezone": strings(_ZONES, plan.zone),
            "profile_photo_phash": hex16(photo, has_photo),
            "display_name": names.display(rng),
        },
    )
    return rows, names.handles(rng)


def write_money(world, out_dir: Path, ids: pa.Array) -> tuple[int, int, np.ndarray]:
    """payout_methods.parquet and payouts.parquet; returns row counts and payouts per account."""
    rng = child_rng(world.seed, PART_MONEY)
    methods = payout_methods(world.plan, world.facilitators, rng)
    paid = payouts(world.plan, methods, rng)
    n_methods = write_whole(
        out_dir,
        "payout_methods",
        {
            "account_id": _ids(ids, methods.acct),
            "payout_token": hex16(keyed_hash(methods.token, world.key)),
            "method": strings(PAYOUT_METHODS, methods.method),
            "destination_country": strings(_COUNTRIES, methods.dest, methods.dest_ok),
            "added_at": timestamps(methods.added),
        },
    )
    n_paid = write_whole(
        out_dir,
        "payouts",
        {
            "account_id": _ids(ids, paid.acct),
            "payout_token": hex16(keyed_hash(paid.token, world.key)),
            "amount_usd": numbers(paid.amount_usd, pa.float64()),
            "paid_at": timestamps(paid.paid),
        },
    )
    return n_methods, n_paid, np.bincount(paid.acct, minlength=world.n)


def write_portfolio(world, out_dir: Path, ids: pa.Array, handles: pa.Array) -> int:
    """portfolio_items.parquet, rendered and written in chunks of items (no stock images
    for isolated cells)."""
    rng = child_rng(world.seed, PART_PORTFOLIO)
    items = build_items(world.plan, world.rings, handles, rng, 0.0 if world.cells else STOCK_SHARE)
    n = len(items["acct"])
    writer = TableWriter(out_dir, "portfolio_items")
    for lo in range(0, max(n, 1), ITEM_CHUNK):
        hi = min(n, lo + ITEM_CHUNK)
        if hi <= lo:
            break
        r = child_rng(world.seed, PART_PORTFOLIO, 2, lo // ITEM_CHUNK)
        d_off, t_off = items["d_off"][lo : hi + 1], items["t_off"][lo : hi + 1]
        descr = render(items["d_words"][d_off[0] : d_off[-1]], d_off - d_off[0], r.random(hi - lo) >= 0.05)
        title = render(items["t_words"][t_off[0] : t_off[-1]], t_off - t_off[0], r.random(hi - lo) >= 0.02)
        url = as_typed(items["canonical"].slice(lo, hi - lo), r)
        url = pc.if_else(pa.array(r.random(hi - lo) >= 0.12), url, pa.nulls(hi - lo, pa.string()))
        item_ids = pc.binary_join_element_wise(
            "item-", hex16(keyed_hash(entity(NS_ITEM, np.arange(lo, hi)), world.key)), ""
        )
        writer.write(
            {
                "account_id": _ids(ids, items["acct"][lo:hi]),
                "item_id": item_ids,
                "url": url,
                "title": title,
                "description": descr,
                "image_phash": hex16(items["phash"][lo:hi], r.random(hi - lo) < IMAGE_SHARE),
                "added_at": timestamps(items["added"][lo:hi]),
            }
        )
    return writer.close()


def write_links(world, out_dir: Path, ids: pa.Array) -> int:
    """account_links.parquet (no link between two isolated cells)."""
    links = build_links(world.plan, child_rng(world.seed, PART_LINKS))
    if world.cells:
        links = without_fronted_pairs(links, world.plan)
    return write_whole(
        out_dir,
        "account_links",
        {
            "account_id": _ids(ids, links.a),
            "other_account_id": _ids(ids, links.b),
            "kind": strings(LINK_KINDS, links.kind),
            "linked_at": timestamps(links.linked_sec, links.linked_ok),
        },
    )


def write_attributes(world, out_dir: Path, ids: pa.Array, payout_count: np.ndarray) -> int:
    """account_attributes.parquet: account_id plus the marketplace's own columns."""
    columns, extra = attributes(world.plan, payout_count, child_rng(world.seed, PART_ATTRIBUTES))
    schema = pa.schema(list(arrow_schema("account_attributes")) + list(extra))
    return write_whole(out_dir, "account_attributes", {"account_id": ids, **columns}, schema)


def write_labels(world, out_dir: Path, ids: pa.Array) -> int:
    """labels.parquet."""
    lab: Cols = world.labels
    return write_whole(
        out_dir,
        "labels",
        {
            "account_id": _ids(ids, lab.account),
            "label": numbers(lab.label, pa.int8()),
            "decided_at": timestamps(lab.decided_sec),
            "source": strings(LABEL_SOURCES, lab.source),
        },
    )


def write_ground_truth(world, out_dir: Path, ids: pa.Array) -> int:
    """ground_truth.parquet (not a contract table)."""
    return write_whole(out_dir, "ground_truth", ground_truth(world.plan, ids), GROUND_TRUTH_SCHEMA)
