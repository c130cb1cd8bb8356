import re
from datetime import datetime
from html.parser import HTMLParser

import pytest

from accountrisk.plugin._report_style import CSP
from accountrisk.plugin.report_html import (
    case_file_name,
    fmt_probability,
    render_case_report,
    render_index,
)
from accountrisk.plugin.report_svg import esc, hours_svg, ring_svg, waterfall_svg
from accountrisk.scoring.models import (
    AccountScore,
    Evidence,
    LinkedAccount,
    MatchedItem,
    Reason,
    SharedToken,
)
from tests.plugin.cases import HOSTILE, HOSTILE_ID, HOSTILE_KIND, hostile_case


class Elements(HTMLParser):
    """Every element and attribute as a browser's tokenizer sees them, and the text."""

    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


def assert_inert(page: str) -> Elements:
    found = parse(page)
    assert "script" not in found.tags
    assert not [a for a in found.attrs if a[1].startswith("on")]
    hrefs = [v for _, k, v in found.attrs if k in ("href", "src", "xlink:href")]
    assert all(not re.match(r"\s*(javascript|data|https?):", v or "", re.I) for v in hrefs)
    return found


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    score, path, index = hostile_case(folder)
    return score, path.read_text(encoding="utf-8"), index.read_text(encoding="utf-8"), folder


def test_hostile_marketplace_text_is_shown_as_text(case):
    _, page, index, _ = case
    for html_page in (page, index):
        found = assert_inert(html_page)
        text = "".join(found.text)
        assert HOSTILE[:39] in text  # the display name, as typed (shortened in the index)
        assert HOSTILE_ID in text
    text = "".join(parse(page).text)
    assert HOSTILE in text
    assert "item<b>1</b>" in text  # an item id is not markup either
    assert HOSTILE_KIND.replace("_", " ") in text or HOSTILE_KIND in text  # a link kind
    assert page.count("<svg ") >= 4 and "&lt;script&gt;" in page


def test_page_is_self_contained_with_a_strict_policy(case):
    _, page, index, _ = case
    for html_page in (page, index):
        assert f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">' in html_page
        assert "script-src" not in html_page and "default-src 'none'" in CSP
        assert not re.search(r"(src|href)=\"(https?:)?//", html_page)
        assert "@import" not in html_page and "url(" not in html_page


def test_case_file_names_are_safe_and_distinct(case):
    _, _, index, folder = case
    names = {case_file_name(a) for a in (HOSTILE_ID, "../../etc/passwd", "a/b", "A/B", "é")}
    assert len(names) == 5
    assert all(re.fullmatch(r"case-[a-z0-9-]+-[0-9a-f]{12}\.html", n) for n in names)
    files = sorted(p.name for p in folder.iterdir())
    assert "index.html" in files and len(files) == 3
    assert all(n == "index.html" or re.fullmatch(r"case-[a-z0-9-]+\.html", n) for n in files)
    assert case_file_name(HOSTILE_ID) in index


def test_case_report_shows_score_reasons_evidence_and_charts(case):
    score, page, _, _ = case
    text = " ".join(parse(page).text)
    assert "91%" in text and "high" in text
    assert "shares payout destinations with 2 other accounts" in text
    assert "pay_3f9a…" in text and "3f9a77aa88bb99cc" not in page
    assert "confirmed fraudulent" in text  # boss
    assert "America/New_York" in text and "09:00-18:00" in text
    assert "Linked accounts" in text and "Payouts, devices and IPs over time" in text
    assert "Pointing the other way" in text  # the account-age reason lowers the score
    assert 'aria-label="SHAP waterfall' in page


def test_waterfall_runs_from_the_expected_value_to_the_margin():
    svg = waterfall_svg([("a", 1.0), ("b", -0.5)], -2.0, 0.0)
    labels = re.findall(r">([+-]?\d+\.\d\d)<", svg)
    assert labels[:1] == ["-2.00"] and "+1.00" in labels and "-0.50" in labels
    assert "+1.50" in labels  # all other features: 0 - (-2 + 1 - 0.5)
    assert labels[-1] in ("+0.00", "-0.00")
    assert "all other features" in svg


def test_charts_escape_their_text():
    ring = {"group_id": HOSTILE_ID, "member_count": 2, "link_kinds": {HOSTILE_KIND: 1},
            "members": [{"account_id": HOSTILE_ID, "score": 0.5, "band": HOSTILE,
                         "confirmed": True, "is_subject": True},
                        {"account_id": "b", "score": None, "band": "", "confirmed": False,
                         "is_subject": False}],
            "edges": [{"a": HOSTILE_ID, "b": "b", "kinds": [HOSTILE_KIND]}]}
    for svg in (ring_svg(ring), hours_svg(list(range(24)), HOSTILE)):
        assert_inert(svg)
        assert "<script" not in svg and "<svg onload" not in svg.replace("<svg xmlns", "")


def test_index_and_report_escape_every_model_field():
    evidence = Evidence(
        accounts=[LinkedAccount(account_id=HOSTILE, link_kind=HOSTILE, shared=[HOSTILE])],
        items=[MatchedItem(item_id=HOSTILE, other_account_id=HOSTILE, other_item_id=HOSTILE,
                           match="link", detail=HOSTILE, title=HOSTILE, other_title=HOSTILE)],
        tokens=[SharedToken(token=HOSTILE, kind=HOSTILE, detail=HOSTILE)],
        counts={HOSTILE: 1}, notes=[HOSTILE], claimed_hour_histogram=[1] * 24,
        claimed_timezone=HOSTILE)
    score = AccountScore(
        account_id=HOSTILE, score=0.004, band=HOSTILE, model_version=HOSTILE,
        feature_set_version=HOSTILE, as_of=datetime(2026, 1, 1),
        reasons=[Reason(feature=HOSTILE, value=HOSTILE, contribution_log_odds=0.3,
                        contribution_probability=0.01, sentence=HOSTILE, direction="raises",
                        evidence=evidence)])
    page = render_case_report(score, account={"display_name": HOSTILE,
                                              "claimed_timezone": HOSTILE},
                              timeline=None, ring=None, expected_log_odds=-5.0,
                              links={HOSTILE: HOSTILE}, index_href=HOSTILE)
    index = render_index([score], {HOSTILE: HOSTILE}, names={HOSTILE: HOSTILE})
    for html_page in (page, index):
        found = assert_inert(html_page)
        assert HOSTILE in "".join(found.text)
    assert fmt_probability(0.004) == "0.40%" in page
