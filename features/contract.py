"""The marketplace data contract (version 1.1), as code.

This module is the single source of the contract in ``docs/data-contract.md``: the tables,
their columns, which are required, their types and the value rules. Loading, validation,
the synthetic generator and the docs all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

# 1.1 adds the optional client-side tables contracts, proposals and reviews; every
# version-1 folder is a valid 1.1 folder.
CONTRACT_VERSION = "1.1"

# Kinds of column. Each kind fixes the Arrow type the column is loaded as and the value
# checks validation runs on it.
Kind = Literal[
    "id",  # non-empty string id
    "text",  # free marketplace text: names, titles, URLs (data, never code)
    "token",  # keyed hash made by the marketplace
    "timestamp",  # UTC instant
    "country",  # ISO 3166-1 alpha-2, upper case
    "timezone",  # IANA zone name
    "phash",  # 64-bit perceptual hash, 16 lowercase hex characters
    "enum",  # lower-case value from a fixed list
    "int64",
    "int32",
    "int8",
    "float64",
]

ARROW_TYPES: dict[str, pa.DataType] = {
    "id": pa.string(),
    "text": pa.string(),
    "token": pa.string(),
    "timestamp": pa.timestamp("us"),
    "country": pa.string(),
    "timezone": pa.string(),
    "phash": pa.string(),
    "enum": pa.string(),
    "int64": pa.int64(),
    "int32": pa.int32(),
    "int8": pa.int8(),
    "float64": pa.float64(),
}

DUCKDB_TYPES: dict[str, str] = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "token": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "country": "VARCHAR",
    "timezone": "VARCHAR",
    "phash": "VARCHAR",
    "enum": "VARCHAR",
    "int64": "BIGINT",
    "int32": "INTEGER",
    "int8": "TINYINT",
    "float64": "DOUBLE",
}


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    kind: Kind
    required: bool
    meaning: str = ""
    values: tuple[str, ...] = ()  # allowed values of an enum column
    min_value: float | None = None  # inclusive bounds of a numeric column
    max_value: float | None = None

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.kind]

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.kind]


@dataclass(frozen=True)
class Table:
    """One contract table: a Parquet file ``<name>.parquet`` in the data folder."""

    name: str
    columns: tuple[Column, ...]
    required: bool = False
    # Columns whose combined value must be unique; duplicates are quarantined.
    unique_key: tuple[str, ...] = ()
    # Timestamp column that places a row in time (point-in-time rule); None: timeless.
    time_column: str | None = None
    # Extra columns are features (account_attributes) instead of being ignored.
    open_columns: bool = False
    meaning: str = ""
    column_by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_by_name", {c.name: c for c in self.columns})

    @property
    def file_name(self) -> str:
        return f"{self.name}.parquet"

    @property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    @property
    def account_columns(self) -> tuple[str, ...]:
        """Columns that name an account (each must be in ``accounts``); the first is the
        account a quarantined row is reported under."""
        return tuple(c.name for c in self.columns if c.kind == "id" and (
            c.name == "account_id" or c.name.endswith("_account_id")))


IP_TYPES = ("residential", "mobile", "business", "hosting", "vpn", "proxy", "tor", "unknown")
ACTIVITY_KINDS = ("message", "proposal", "time_log", "other")
PAYOUT_METHODS = ("bank", "paypal", "payoneer", "wise", "crypto", "other")
LABEL_SOURCES = ("enforcement", "review", "other")

_ACCOUNT = Column("account_id", "id", True, "stable, unique account id")

TABLES: tuple[Table, ...] = (
    Table(
        "accounts",
        (
            _ACCOUNT,
            Column("created_at", "timestamp", True, "sign-up time"),
            Column("claimed_country", "country", True, "country on the profile"),
            Column("claimed_timezone", "timezone", True, "time zone on the profile"),
            Column("profile_photo_phash", "phash", False, "perceptual hash of the profile photo"),
            Column("display_name", "text", False, "for analysts' eyes only; never a feature"),
        ),
        required=True,
        unique_key=("account_id",),
        time_column="created_at",
        meaning="one row per account",
    ),
    Table(
        "sessions",
        (
            _ACCOUNT,
            Column("started_at", "timestamp", True),
            Column("ip_token", "token", True, "keyed hash of the client IP address"),
            Column("ip_country", "country", False, "geolocation of the IP"),
            Column("asn", "int64", False, "autonomous system number of the IP", min_value=0),
            Column("ip_type", "enum", False, "kind of IP address", values=IP_TYPES),
            Column("device_token", "token", False, "keyed hash of the device fingerprint"),
            Column(
                "browser_utc_offset_min",
                "int32",
                False,
                "UTC offset the browser reported, minutes east of UTC",
                min_value=-720,
                max_value=840,
            ),
            Column("remote_access_tool", "text", False, "remote-desktop tool seen; null: none"),
        ),
        time_column="started_at",
        meaning="one row per login session",
    ),
    Table(
        "activity",
        (
            _ACCOUNT,
            Column("ts", "timestamp", True),
            Column("kind", "enum", True, values=ACTIVITY_KINDS),
        ),
        time_column="ts",
        meaning="work actions, the best evidence of working hours",
    ),
    Table(
        "payout_methods",
        (
            _ACCOUNT,
            Column("payout_token", "token", True, "keyed hash of the payout destination"),
            Column("method", "enum", True, values=PAYOUT_METHODS),
            Column("destination_country", "country", False, "country of the destination"),
            Column("added_at", "timestamp", True),
        ),
        time_column="added_at",
    ),
    Table(
        "payouts",
        (
            _ACCOUNT,
            Column("payout_token", "token", True, "destination used"),
            Column("amount_usd", "float64", True, "money paid out", min_value=0.0),
            Column("paid_at", "timestamp", True),
        ),
        time_column="paid_at",
    ),
    Table(
        "portfolio_items",
        (
            _ACCOUNT,
            Column("item_id", "id", True, "unique per item"),
            Column("url", "text", False, "link shown on the item, as entered"),
            Column("title", "text", False),
            Column("description", "text", False, "free text"),
            Column("image_phash", "phash", False, "perceptual hash of the main image"),
            Column("added_at", "timestamp", True),
        ),
        unique_key=("item_id",),
        time_column="added_at",
    ),
    Table(
        "account_attributes",
        (_ACCOUNT,),
        unique_key=("account_id",),
        open_columns=True,
        meaning="what else the marketplace knows per account; columns become attr_<column>",
    ),
    Table(
        "account_links",
        (
            _ACCOUNT,
            Column("other_account_id", "id", True),
            Column("kind", "text", True, "the marketplace's own name for the relation"),
            Column("linked_at", "timestamp", False, "when the relation first held; null: always"),
        ),
        time_column="linked_at",
        meaning="undirected relations between two accounts",
    ),
    Table(
        "contracts",
        (
            Column("contract_id", "id", True, "unique per contract"),
            Column("freelancer_account_id", "id", True, "the hired account"),
            Column("client_account_id", "id", True, "the hiring account (an account too)"),
            Column("started_at", "timestamp", True),
            Column("ended_at", "timestamp", False, "null while running"),
            Column("billed_usd", "float64", False, "total billed up to the export",
                   min_value=0.0),
        ),
        unique_key=("contract_id",),
        time_column="started_at",
        meaning="work a client hired a freelancer for (1.1)",
    ),
    Table(
        "proposals",
        (
            Column("proposal_id", "id", True, "unique per proposal"),
            _ACCOUNT,
            Column("job_id", "id", True, "the job posting; its client is not required"),
            Column("submitted_at", "timestamp", True),
            Column("cover_text", "text", False, "the proposal's free text"),
            Column("bid_usd", "float64", False, min_value=0.0),
        ),
        unique_key=("proposal_id",),
        time_column="submitted_at",
        meaning="bids freelancers sent to jobs (1.1)",
    ),
    Table(
        "reviews",
        (
            Column("review_id", "id", True, "unique per review"),
            Column("subject_account_id", "id", True, "who it is about"),
            Column("author_account_id", "id", True, "who wrote it"),
            Column("contract_id", "id", False, "the contract reviewed, when known"),
            Column("rating", "float64", True, "1 to 5", min_value=1.0, max_value=5.0),
            Column("created_at", "timestamp", True),
        ),
        unique_key=("review_id",),
        time_column="created_at",
        meaning="ratings left after a contract (1.1)",
    ),
    Table(
        "labels",
        (
            _ACCOUNT,
            Column("label", "int8", True, "1 confirmed fraudulent, 0 reviewed and cleared",
                   min_value=0, max_value=1),
            Column("decided_at", "timestamp", True),
            Column("source", "enum", False, values=LABEL_SOURCES),
        ),
        time_column="decided_at",
        meaning="past decisions, the training target",
    ),
)

TABLE_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    """The contract table called ``name``."""
    return TABLE_BY_NAME[name]


def arrow_schema(name: str) -> pa.Schema:
    """The Arrow schema a contract table is written and loaded with (contract columns only)."""
    return pa.schema([pa.field(c.name, c.arrow_type, nullable=not c.required)
                      for c in table(name).columns])
