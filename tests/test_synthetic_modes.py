"""Generator modes: determinism, the contract, the tables each mode writes, and what makes
each mode what it is (classic unchanged, realistic prevalence, isolated behaviour cells, the
crowd-work platform graph, the thin export)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.errors import UsageError
from accountrisk.features.load import load_folder
from accountrisk.synthetic import MODES, generate

END = datetime(2026, 10, 1)
EXTRA_FILES = {"ground_truth.parquet", "generation.json"}
ALL_TABLES = {
    "accounts",
    "sessions",
    "activity",
    "payout_methods",
    "payouts",
    "portfolio_items",
    "account_attributes",
    "account_links",
    "contracts",
    "proposals",
    "reviews",
    "labels",
}
# the full export also writes the truth of client roles (not a contract table)
FULL_EXTRA_FILES = {"collaborators.parquet"}
MODE_TABLES = {
    "classic": ALL_TABLES,
    "realistic": ALL_TABLES,
    "behaviour": ALL_TABLES,
    "platform": {"accounts", "account_attributes", "account_links", "labels"},
    "thin": {"accounts", "sessions", "labels"},
}
SMALL = {"accounts": 1500, "seed": 4}
# Content digests of classic (2000 accounts, seed 3) written by the generator before modes
# existed. Content (schema + values), not file bytes: Parquet files name the writing pyarrow
# version, so bytes change with a pyarrow upgrade while the data does not.
CLASSIC_GOLDEN = {
    "account_attributes.parquet": "dac7df7f2172467f",
    "account_links.parquet": "582f71f954250344",
    "accounts.parquet": "5885037ce8139f22",
    "activity.parquet": "2a3314eb3f780111",
    "generation.json": "d50a50022e60c80e",  # contract 1.1: version and new row counts
    "ground_truth.parquet": "9aab23ca8baf94f2",
    "labels.parquet": "25630c56349a9767",
    "payout_methods.parquet": "59fe7ec9cee3a37e",
    "payouts.parquet": "5fb819c00d540642",
    "portfolio_items.parquet": "c5afad6331e0ca1e",
    "sessions.parquet": "2b9402b199a7505c",
}


def content_digest(path: Path) -> str:
    """Digest of a file's content: Parquet schema and values, or the summary without ``mode``."""
    h = hashlib.sha256()
    if path.suffix == ".json":
        summary = json.loads(path.read_text())
        summary["parameters"].pop("mode", None)
        h.update(json.dumps(summary, sort_keys=True).encode())
        return h.hexdigest()[:16]
    table = pq.read_table(path)
    h.update(str(table.schema.remove_metadata()).encode())
    for column in table.columns:
        h.update(json.dumps(column.to_pylist(), default=str).encode())
    return h.hexdigest()[:16]


@pytest.fixture(scope="module")
def pairs(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """Each mode generated twice with the same arguments."""
    out = {}
    for mode in MODES:
        a, b = (tmp_path_factory.mktemp(f"{mode}_{i}") for i in "ab")
        generate(a, mode=mode, **SMALL)
        generate(b, mode=mode, **SMALL)
        out[mode] = (a, b)
    return out


def read(folder: Path, name: str):
    return pq.read_table(folder / f"{name}.parquet")


def test_modes_are_the_documented_five():
    assert MODES == ("classic", "realistic", "behaviour", "platform", "thin")


@pytest.mark.parametrize("mode", MODES)
def test_same_arguments_give_the_same_bytes(pairs, mode):
    a, b = pairs[mode]
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), (mode, name)


@pytest.mark.parametrize("mode", MODES)
def test_only_the_modes_tables_are_written(pairs, mode):
    folder, _ = pairs[mode]
    expected = {f"{t}.parquet" for t in MODE_TABLES[mode]} | EXTRA_FILES
    if "contracts" in MODE_TABLES[mode]:
        expected |= FULL_EXTRA_FILES
    assert {p.name for p in folder.iterdir()} == expected
    summary = json.loads((folder / "generation.json").read_text())
    assert set(summary["rows"]) == MODE_TABLES[mode] | {"ground_truth"}
    assert summary["parameters"]["mode"] == mode
    for name, rows in summary["rows"].items():
        assert pq.read_metadata(folder / f"{name}.parquet").num_rows == rows, (mode, name)


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_passes_the_contract(pairs, mode):
    folder, _ = pairs[mode]
    with DuckDBEngine() as engine:
        report = load_folder(folder, engine, now=END + timedelta(days=1))
        quarantined = engine.con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    assert report.usable
    assert [p.render() for p in report.problems if p.severity != "note"] == []
    assert quarantined == 0


@pytest.mark.parametrize("mode", MODES)
def test_ground_truth_keeps_its_schema(pairs, mode):
    folder, _ = pairs[mode]
    classic = pq.read_schema(pairs["classic"][0] / "ground_truth.parquet")
    assert pq.read_schema(folder / "ground_truth.parquet").remove_metadata().equals(classic.remove_metadata())
    ids = read(folder, "accounts").column("account_id").to_pylist()
    assert read(folder, "ground_truth").column("account_id").to_pylist() == ids


def test_classic_output_is_unchanged(tmp_path):
    """The version-1 tables are what they were before modes and the client side existed;
    generation.json changed once, for contract 1.1 (its version and new row counts)."""
    generate(tmp_path, accounts=2000, seed=3)
    got = {p.name: content_digest(p) for p in sorted(tmp_path.iterdir())}
    assert {k: v for k, v in got.items() if k in CLASSIC_GOLDEN} == CLASSIC_GOLDEN
    assert set(got) - set(CLASSIC_GOLDEN) == {"contracts.parquet", "proposals.parquet",
                                               "reviews.parquet", "collaborators.parquet"}


def test_classic_is_the_default_mode(pairs, tmp_path):
    generate(tmp_path, mode="classic", fronted_share=0.01, **SMALL)
    for p in pairs["classic"][0].iterdir():
        assert (tmp_path / p.name).read_bytes() == p.read_bytes(), p.name


def test_unknown_mode_is_rejected(tmp_path):
    with pytest.raises(UsageError, match="mode must be one of"):
        generate(tmp_path, accounts=100, mode="lively")


def test_realistic_prevalence_otherwise_classic(tmp_path):
    generate(tmp_path / "r", accounts=5000, seed=2, mode="realistic")
    generate(tmp_path / "c", accounts=5000, seed=2, mode="classic", fronted_share=0.003)
    summary = json.loads((tmp_path / "r" / "generation.json").read_text())
    assert summary["parameters"]["fronted_share"] == 0.003
    fronted = read(tmp_path / "r", "ground_truth").column("is_fronted").to_pylist()
    assert sum(fronted) == 15  # 0.3% of 5000
    for p in (tmp_path / "c").glob("*.parquet"):
        assert (tmp_path / "r" / p.name).read_bytes() == p.read_bytes(), p.name


def test_thin_is_the_classic_world_exported_thinly(pairs):
    thin, classic = pairs["thin"][0], pairs["classic"][0]
    for name in ("accounts", "sessions", "labels", "ground_truth"):
        assert (thin / f"{name}.parquet").read_bytes() == (classic / f"{name}.parquet").read_bytes(), name


def test_a_mode_removes_tables_it_does_not_write(tmp_path):
    generate(tmp_path, accounts=300, seed=1)
    generate(tmp_path, accounts=300, seed=1, mode="thin")
    assert {p.name for p in tmp_path.iterdir()} == {f"{t}.parquet" for t in MODE_TABLES["thin"]} | EXTRA_FILES
