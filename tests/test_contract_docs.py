"""The contract as code, the shared contract and the project's docs say the same thing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accountrisk.features import contract

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data-contract.md"
DOCS = ROOT / "docs" / "data-contract.md"
TYPES = {"id": "string", "text": "string", "token": "string", "country": "string",
         "timezone": "string", "phash": "string", "enum": "string", "timestamp": "timestamp",
         "int64": "int64", "int32": "int32", "int8": "int8", "float64": "float64"}


def tables_in(markdown: str) -> dict[str, dict[str, tuple[str, bool]]]:
    """{table: {column: (type, required)}} from '## name' / '### name' headed tables."""
    found: dict[str, dict[str, tuple[str, bool]]] = {}
    current = None
    for line in markdown.splitlines():
        heading = re.match(r"^#{2,3} (\w+)", line)
        if heading:
            current = heading.group(1)
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if current and line.startswith("|") and len(cells) >= 3 and cells[0] not in (
                "column", "---") and not cells[0].startswith("-"):
            found.setdefault(current, {})[cells[0]] = (cells[1], cells[2] == "yes")
    return found


def expected() -> dict[str, dict[str, tuple[str, bool]]]:
    return {t.name: {c.name: (TYPES[c.kind], c.required) for c in t.columns}
            for t in contract.TABLES}


def test_project_docs_match_the_contract_code():
    docs = tables_in(DOCS.read_text())
    assert {k: v for k, v in docs.items() if k in expected()} == expected()


@pytest.mark.skipif(not SHARED.exists(), reason="shared/ is not beside this checkout")
def test_contract_code_matches_the_shared_contract():
    shared = tables_in(SHARED.read_text())
    for name, columns in expected().items():
        if name == "account_attributes":  # open table: account_id plus any columns
            continue
        assert shared[name] == columns, name
    assert {"accounts", "sessions", "activity", "payout_methods", "payouts",
            "portfolio_items", "account_links", "labels"} <= set(shared)
