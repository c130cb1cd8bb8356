"""The registry: names carry units, every feature has a description and a reason that
renders, and docs/signals.md is the registry."""

from __future__ import annotations

import re
import string
from pathlib import Path

from accountrisk.features.registry import FEATURES, feature_names, signals_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs" / "signals.md"
UNIT = re.compile(r"(_count|_ratio|_hours|_days|_bits|_usd|_per_\w+)$|^(is|has)_")
CONTEXT = {"claimed_timezone": "America/Chicago", "claimed_country": "US"}


def test_every_feature_name_carries_a_unit_or_is_a_flag():
    names = feature_names()
    assert len(names) >= 30
    assert [n for n in names if not UNIT.search(n)] == []


def test_every_reason_template_renders_with_a_value_and_the_claimed_context():
    for f in FEATURES.values():
        fields = {name for _, name, _, _ in string.Formatter().parse(f.reason) if name}
        assert fields <= {"value", *CONTEXT}, (f.name, fields)
        text = f.reason.format(value=0.42, **CONTEXT)
        assert text and "{" not in text, f.name
        assert f.description and not f.description.endswith(" "), f.name


def test_no_feature_is_a_protected_or_identity_attribute_by_itself():
    forbidden = {"claimed_country", "claimed_timezone", "display_name", "label"}
    assert not forbidden & set(feature_names())


def test_docs_signals_page_is_the_registry():
    assert DOCS.read_text() == signals_markdown()
