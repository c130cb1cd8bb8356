"""Golden feature values: small seeded marketplaces, their features as of a fixed time, and
a compact digest of every column, so a refactoring of the signal code can show that it
changed no value.

Regenerate the golden file (only when values are meant to change, and say why in the
commit): ``python -m tests.features.golden``.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_folder
from accountrisk.features.pipeline import build_features
from accountrisk.synthetic import generate

GOLDEN = Path(__file__).with_name("golden_features.json")
AS_OF = "2026-09-01"
END = datetime(2026, 10, 1)  # the generator's end; loading checks times against it
SIGNIFICANT_DIGITS = 9
SUM_ORDER_NOISE = 1e-11  # relative; the last bits of a double sum depend on the order
# (mode, accounts, seed, fronted share): classic with enough fronted accounts that rings,
# shared payouts and recycled portfolios occur; platform for attributes and neighbour
# columns named after its link kind; thin for the login-hour signals.
MARKETPLACES = {
    "classic": ("classic", 400, 11, 0.08),
    "platform": ("platform", 300, 12, None),
    "thin": ("thin", 250, 13, 0.08),
}


def generate_marketplace(folder: Path, name: str) -> Path:
    """Generate the marketplace ``name`` of :data:`MARKETPLACES` into ``folder``."""
    mode, accounts, seed, share = MARKETPLACES[name]
    generate(folder, accounts=accounts, seed=seed, mode=mode, fronted_share=share, end=END)
    return folder


def features_of(folder: Path, **options) -> pa.Table:
    """Features of a generated folder as of :data:`AS_OF` (options go to build_features)."""
    with DuckDBEngine() as engine:
        report = load_folder(folder, engine, now=END)
        assert report.usable, [p.render() for p in report.problems]
        return build_features(engine, AS_OF, **options)


def _text(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if value == 0:
            return "0"  # -0.0 and 0.0 alike
        return _rounded(value)
    return repr(value)


def _rounded(value: float) -> str:
    """``value`` to 9 significant digits; to 8 when it lies a hair from a 9-digit rounding
    midpoint (0.1452140625): parallel sums add in any order, so such a value comes out
    0.14521406250000002 in one run and 0.14521406249999996 in the next, and would round
    either way. One digit fewer is then far from a midpoint."""
    text = format(value, f".{SIGNIFICANT_DIGITS}g")
    nearby = {format(value * (1 + sign * SUM_ORDER_NOISE), f".{SIGNIFICANT_DIGITS}g")
              for sign in (-1, 1)}
    if nearby != {text}:
        text = format(value, f".{SIGNIFICANT_DIGITS - 1}g")
    return text


def digest(table: pa.Table) -> dict[str, object]:
    """Row count, column names in order, and per column a digest of its values in
    ``account_id`` order (floats rounded to 9 significant digits, NULLs marked)."""
    ordered = table.sort_by("account_id")
    columns = {}
    for name in ordered.column_names:
        text = "\n".join(_text(v) for v in ordered.column(name).to_pylist())
        columns[name] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return {"rows": ordered.num_rows, "column_order": ordered.column_names,
            "columns": columns}


def differences(expected: dict[str, object], got: dict[str, object]) -> list[str]:
    """What differs between two digests, column by column (order is reported apart)."""
    out = []
    if expected["rows"] != got["rows"]:
        out.append(f"rows: {expected['rows']} expected, {got['rows']} computed")
    want, have = expected["columns"], got["columns"]
    out += [f"missing column {c}" for c in want if c not in have]
    out += [f"new column {c}" for c in have if c not in want]
    out += [f"values of {c} differ" for c in want if c in have and want[c] != have[c]]
    if not out and expected["column_order"] != got["column_order"]:
        out.append("same columns and values, other column order")
    return out


def compute_all(root: Path) -> dict[str, dict[str, object]]:
    """The digest of every marketplace of :data:`MARKETPLACES`, generated under ``root``."""
    return {name: digest(features_of(generate_marketplace(root / name, name)))
            for name in MARKETPLACES}


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as root:
        found = compute_all(Path(root))
    GOLDEN.write_text(json.dumps({"as_of": AS_OF, "marketplaces": found}, indent=1) + "\n")
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
