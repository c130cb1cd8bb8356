"""The analyst's case report: one self-contained HTML page per account, and a queue index.

Pages carry their CSS and SVG inline and load nothing: no scripts, no fonts, no images from
elsewhere, and a Content-Security-Policy that forbids scripts outright, so a bug in the
escaping still cannot run code. Every piece of marketplace text is escaped with
:func:`~.report_svg.esc`. File names come from a hash of the account id, never the id.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from accountrisk.plugin._report_style import CSP, CSS
from accountrisk.plugin.report_svg import (
    BUSINESS_HOURS,
    NIGHT_HOURS,
    band_colour,
    esc,
    hours_svg,
    ring_svg,
    short,
    timeline_svg,
    waterfall_svg,
)
from accountrisk.scoring.models import AccountScore, Evidence, Reason

INDEX_FILE = "index.html"
SHOWN_ROWS = 6  # evidence rows shown before the rest fold away


# -- formatting ------------------------------------------------------------------------------
def fmt_probability(p: float) -> str:
    if p >= 0.1:
        return f"{p:.0%}"
    return f"{p:.1%}" if p >= 0.01 else f"{p:.2%}"


def fmt_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "unknown"
    if isinstance(value, float):
        if value.is_integer():
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def fmt_time(moment: datetime | None, *, clock: bool = True) -> str:
    if moment is None:
        return "unknown"
    return f"{moment:%Y-%m-%d %H:%M} UTC" if clock else f"{moment:%Y-%m-%d}"


def band_badge(band: str) -> str:
    label = band or "below review bands"
    return (f'<span class="badge" style="background:{band_colour(band)}">'
            f"{esc(label)}</span>")


def case_file_name(account_id: str) -> str:
    """``case-<slug>-<hash>.html``: a readable, safe prefix plus a hash of the full id."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(account_id).lower()).strip("-")[:24] or "account"
    digest = hashlib.sha256(str(account_id).encode("utf-8")).hexdigest()[:12]
    return f"case-{slug}-{digest}.html"


def _account_ref(account_id: str, links: Mapping[str, str] | None) -> str:
    text = f"<code>{esc(account_id)}</code>"
    if links and account_id in links:
        return f'<a href="{esc(links[account_id])}">{text}</a>'
    return text


def _page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="referrer" content="no-referrer">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head>"
            f"<body>{body}</body></html>\n")


# -- evidence --------------------------------------------------------------------------------
def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], *,
           visible: int | None = SHOWN_ROWS) -> str:
    """A table from already-escaped cells; rows past ``visible`` fold into a <details>."""
    lines = ["<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows]
    if not lines:
        return ""
    head = "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in headers) + "</tr></thead>"
    cut = len(lines) if visible is None or len(lines) <= visible + 2 else visible
    out = f'<table class="evidence">{head}<tbody>{"".join(lines[:cut])}</tbody></table>'
    if cut < len(lines):
        out += (f"<details><summary>{len(lines) - cut} more rows</summary>"
                f'<table class="evidence">{head}<tbody>{"".join(lines[cut:])}</tbody></table>'
                "</details>")
    return out


def _confirmed(flag: bool, cleared: bool = False) -> str:
    if flag:
        return '<span class="flag">confirmed fraudulent</span>'
    return '<span class="muted">cleared</span>' if cleared else ""


def _item(item_id: str, title: str | None) -> str:
    name = f'<br><span class="muted">{esc(short(title, 80))}</span>' if title else ""
    return f"<code>{esc(item_id)}</code>{name}"


def render_evidence(evidence: Evidence, links: Mapping[str, str] | None = None) -> str:
    """The evidence behind one reason: tokens, other accounts, matched items, notes."""
    parts = []
    parts.append(_table(
        ["shared token", "kind", "other accounts", "of them confirmed", "detail"],
        ([f"<code>{esc(t.token)}</code>", esc(t.kind), esc(t.account_count),
          esc(t.confirmed_count) if t.confirmed_count else "0", esc(t.detail)]
         for t in evidence.tokens)))
    parts.append(_table(
        ["other account", "linked by", "shared", ""],
        ([_account_ref(a.account_id, links), esc(a.link_kind.replace("_", " ")),
          ", ".join(f"<code>{esc(s)}</code>" for s in a.shared),
          _confirmed(a.is_confirmed_fraud, a.is_cleared)]
         for a in evidence.accounts)))
    first = {True: "the other account", False: "this account", None: "same time"}
    parts.append(_table(
        ["this item", "matches", "of account", "how", "first shown by"],
        ([_item(i.item_id, i.title), _item(i.other_item_id, i.other_title),
          _account_ref(i.other_account_id, links), f"{esc(i.match)}: {esc(i.detail)}",
          esc(first[i.this_is_newer])] for i in evidence.items)))
    if evidence.claimed_hour_histogram is not None:
        parts.append('<p class="note">The hour-by-hour chart is under '
                     '<a href="#hours">Working hours</a>.</p>')
    if evidence.counts:
        chips = "".join(f'<span class="chip">{esc(k)}: <b>{esc(v)}</b></span>'
                        for k, v in evidence.counts.items())
        parts.append(f'<div class="chips">{chips}</div>')
    if evidence.notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{esc(n)}</li>"
                                                     for n in evidence.notes) + "</ul>")
    inner = "".join(p for p in parts if p)
    return f'<div class="evidence-block">{inner}</div>' if inner else ""


def _reason(reason: Reason, links: Mapping[str, str] | None,
            shown: dict[str, str] | None = None) -> str:
    """One reason card; evidence already shown for an earlier reason is referred to, not
    repeated (``shown``: evidence JSON → anchor of the reason that showed it)."""
    raises = reason.direction == "raises"
    anchor = "reason-" + re.sub(r"[^a-z0-9_]+", "-", reason.feature.lower())
    evidence = render_evidence(reason.evidence, links)
    if evidence and shown is not None:
        key = reason.evidence.model_dump_json()
        if key in shown:
            evidence = (f'<p class="note evidence-block">Evidence: the same as for '
                        f'<a href="#{esc(shown[key])}">the reason above</a>.</p>')
        else:
            shown[key] = anchor
    arrow = "▲" if raises else "▼"
    points = reason.contribution_probability * 100
    return (f'<li class="reason {"raises" if raises else "lowers"}" id="{esc(anchor)}">'
            f'<div class="reason-head"><span class="arrow" aria-hidden="true">{arrow}</span>'
            f'<p class="sentence">{esc(reason.sentence)}</p>'
            f'<span class="contrib">{reason.contribution_log_odds:+.2f} log-odds<br>'
            f"{points:+.1f} pts</span></div>"
            f'<div class="meta"><code>{esc(reason.feature)}</code> = '
            f"{esc(fmt_value(reason.value))}</div>"
            f"{evidence}</li>")


# -- sections --------------------------------------------------------------------------------
def _header(score: AccountScore, account: Mapping[str, Any], index_href: str | None) -> str:
    name = account.get("display_name")
    photo: dict[object, str] = {True: "yes", False: "none"}
    facts = [("claimed country", account.get("claimed_country")),
             ("claimed time zone", account.get("claimed_timezone")),
             ("signed up", fmt_time(account.get("created_at"), clock=False)
              if account.get("created_at") else None),
             ("profile photo", photo.get(account.get("has_profile_photo")))]
    decision = account.get("decision")
    if decision:
        verdict = "confirmed fraudulent" if decision.get("label") == 1 else "cleared"
        facts.append(("latest decision", f"{verdict} on "
                      f"{fmt_time(decision.get('decided_at'), clock=False)}"))
    dl = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in facts if v)
    back = f'<a class="back" href="{esc(index_href)}">← review queue</a>' if index_href else ""
    colour = band_colour(score.band)
    return f"""<header class="top">{back}
      <div class="ident"><p class="kicker">Case file · account</p>
        <h1><code>{esc(score.account_id)}</code></h1>
        <p class="name">{esc(name) if name else '<span class="muted">no display name</span>'}</p>
        <dl class="facts">{dl}</dl></div>
      <div class="scorebox" style="border-color:{colour}">
        <div class="score" style="color:{colour}">{esc(fmt_probability(score.score))}</div>
        <div>{band_badge(score.band)}</div>
        <p class="muted">calibrated probability that the account fronts for someone else,
          as of {esc(fmt_time(score.as_of))}</p></div></header>"""


def _waterfall(score: AccountScore, expected: float | None) -> str:
    if expected is None or not score.reasons:
        return ('<p class="muted">The model\'s expected value was not given, so the '
                "waterfall is not drawn.</p>") if score.reasons else ""
    steps = [(r.feature.replace("_", " "), r.contribution_log_odds) for r in score.reasons]
    svg = waterfall_svg(steps, expected, score.raw_log_odds,
                        final_label=f"this account ({fmt_probability(score.score)})")
    return (f"{svg}<p class=\"note\">Bars are exact TreeSHAP contributions in log-odds; red "
            "raises the score, green lowers it. They start from the model's average account"
            " and add up to this account's margin, which calibration turns into "
            f"{esc(fmt_probability(score.score))}.</p>")


def _hours(score: AccountScore, timeline: Mapping[str, Any] | None) -> str:
    found = next((r.evidence for r in score.reasons
                  if r.evidence.claimed_hour_histogram is not None), None)
    if found is not None and found.claimed_hour_histogram is not None:  # (found has one)
        histogram, zone = found.claimed_hour_histogram, found.claimed_timezone
    elif timeline and timeline.get("hours"):
        histogram = timeline["hours"]["histogram"]
        zone = timeline["hours"].get("claimed_timezone")
    else:
        return ""
    total = sum(histogram) or 1
    (night_start, night_end), (start, end) = NIGHT_HOURS, BUSINESS_HOURS
    night = sum(histogram[night_start:night_end]) / total
    office = sum(histogram[start:end]) / total
    text = (f"{night:.0%} of {sum(histogram):,} work actions fall between "
            f"{night_start:02d}:00 and {night_end:02d}:00 and {office:.0%} in "
            f"{start:02d}:00-{end:02d}:00 business hours, in the claimed time zone "
            f"{zone or 'on the profile'}.")
    return (f'<section id="hours"><h2>Working hours</h2><p class="lead">{esc(text)}</p>'
            f"{hours_svg(histogram, zone)}</section>")


def _ring(ring: Mapping[str, Any] | None, links: Mapping[str, str] | None) -> str:
    if not ring:
        return ""
    kinds = ", ".join(f"{k.replace('_', ' ')} ({n})" for k, n in ring.get("link_kinds", {}).items())
    shown = ring.get("shown", len(ring.get("members", [])))
    confirmed = ring.get("confirmed_count", 0)
    if ring.get("chained"):
        lead = (f"This account's link group of {ring['member_count']:,} accounts is chained "
                "together by everyday links (households, co-workers, shared addresses), so it "
                f"is not a ring. Shown: the account and its {len(ring.get('members', [])) - 1} "
                f"direct links, {confirmed} of them confirmed fraudulent before as-of. "
                f"Linked pairs by kind: {kinds or 'none'}.")
    else:
        lead = (f"Linked group of {ring['member_count']} accounts, {confirmed} confirmed "
                f"fraudulent before as-of. Linked pairs by kind: {kinds or 'none'}.")
        if shown < ring["member_count"]:
            lead += f" The graph shows {shown} of them: this account's direct links first."
    rows = ([_account_ref(m["account_id"], links) + (" (this account)" if m["is_subject"] else ""),
             (f'<span class="nowrap">{esc(fmt_probability(m["score"]))}</span>'
              if m.get("score") is not None else '<span class="nowrap muted">not scored</span>'),
             band_badge(m["band"]) if m.get("score") is not None else "",
             _confirmed(m.get("confirmed", False))] for m in ring.get("members", []))
    return (f'<section id="ring"><h2>Linked accounts</h2><p class="lead">{esc(lead)}</p>'
            f'<div class="two">{ring_svg(dict(ring))}'
            f'{_table(["account", "score", "band", ""], rows, visible=14)}</div></section>')


def _timeline(timeline: Mapping[str, Any] | None) -> str:
    if not timeline or not timeline.get("tracks"):
        return ""
    rows = ([f"<code>{esc(t['token'])}</code>", esc(t["kind"]),
             esc(fmt_time(t["first_seen"], clock=False)),
             esc(fmt_time(t["last_seen"], clock=False)), esc(t["count"]),
             esc(t["detail"]) + (f" · ${t['amount_usd']:,.0f} paid out"
                                 if t.get("amount_usd") else ""),
             f'<span class="flag">{esc(t["shared_with"])} other accounts</span>'
             if t.get("shared_with") else ""]
            for t in timeline["tracks"])
    omitted = timeline.get("omitted") or {}
    more = ("; ".join(f"{n} more {k} tokens not shown" for k, n in omitted.items()))
    headers = ["token", "kind", "first seen", "last seen", "uses", "detail", "shared"]
    return (f'<section id="timeline"><h2>Payouts, devices and IPs over time</h2>'
            f"{timeline_svg(dict(timeline))}{_table(headers, rows)}"
            + (f'<p class="note">{esc(more)}</p>' if more else "") + "</section>")


def _entities(entities: Sequence[Mapping[str, Any]] | None) -> str:
    if not entities:
        return ""
    from accountrisk.scoring.facilitators import describe_entity

    items = "".join(f"<li>{esc(describe_entity(e))}</li>" for e in entities)
    return ('<section id="entities"><h2>What it shares, and whom that serves</h2>'
            f'<ul class="reasons">{items}</ul><p class="note">The entities ranked across the '
            "marketplace: <code>accountrisk facilitators</code>.</p></section>")


def _decisions(history: Mapping[str, Sequence[Mapping[str, Any]]] | None) -> str:
    if not history or not (history.get("account") or history.get("linked")):
        return ""
    parts = []
    for key, title in (("account", "This account"), ("linked", "Linked accounts")):
        items = "".join(f"<li>{esc(d['sentence'])}</li>" for d in history.get(key, []))
        if items:
            parts.append(f"<h3>{title}</h3><ul class=\"tight\">{items}</ul>")
    return ('<section id="decisions"><h2>Earlier decisions</h2>'
            f'{"".join(parts)}</section>')


def render_case_report(score: AccountScore, *, account: Mapping[str, Any] | None,
                       timeline: Mapping[str, Any] | None, ring: Mapping[str, Any] | None,
                       expected_log_odds: float | None,
                       links: Mapping[str, str] | None = None,
                       index_href: str | None = None,
                       entities: Sequence[Mapping[str, Any]] | None = None,
                       decisions: Mapping[str, Sequence[Mapping[str, Any]]] | None = None
                       ) -> str:
    """One self-contained HTML case file: score and band, earlier reviewer decisions on
    the account and its linked accounts (``decisions``, see
    :func:`accountrisk.training.review.history.decision_history`), reasons with their
    evidence, the SHAP waterfall, working hours in the claimed zone, the link group, the
    entities it shares (payout destinations, IPs, devices, clients) with the accounts they
    serve, and the token timeline. ``links`` maps account ids to other case files (linked
    where shown);
    ``index_href`` adds a link back to the queue."""
    account = dict(account or {})
    up = [r for r in score.reasons if r.direction == "raises"]
    down = [r for r in score.reasons if r.direction != "raises"]
    shown: dict[str, str] = {}
    reasons = "".join(_reason(r, links, shown) for r in up)
    if down:
        reasons += ('<h3>Pointing the other way</h3><ul class="reasons">'
                    + "".join(_reason(r, links, shown) for r in down) + "</ul>")
    body = (f'{_header(score, account, index_href)}<main>{_decisions(decisions)}'
            f'<section id="reasons"><h2>Why this account is flagged</h2>'
            f'<ul class="reasons">{reasons or "<li class=muted>No reasons were computed.</li>"}'
            f"</ul></section>"
            f'<section id="waterfall"><h2>How the score adds up</h2>'
            f"{_waterfall(score, expected_log_odds)}</section>"
            f"{_hours(score, timeline)}{_ring(ring, links)}{_entities(entities)}"
            f"{_timeline(timeline)}</main>"
            f'<footer>model {esc(score.model_version)} ({esc(score.model_kind)}) · feature set '
            f"{esc(score.feature_set_version)} · as of {esc(fmt_time(score.as_of))} · tokens are "
            "shortened keyed hashes; raw IPs, devices and bank details are never stored."
            "</footer>")
    return _page(f"Case {short(score.account_id, 60)} · accountrisk", body)


def render_index(scores: Sequence[AccountScore], links: Mapping[str, str], *,
                 title: str = "Review queue", names: Mapping[str, str | None] | None = None,
                 top: int = 3) -> str:
    """The queue index: each account with score, band and its ``top`` reasons, linking its
    case file (``links``: account id → file name; ``names``: display names, optional)."""
    ordered = sorted(scores, key=lambda s: -s.score)
    counts: dict[str, int] = {}
    for s in ordered:
        counts[s.band] = counts.get(s.band, 0) + 1
    chips = "".join(f'<span class="chip">{band_badge(b)} <b>{n}</b></span>'
                    for b, n in counts.items())
    rows = []
    for rank, s in enumerate(ordered, 1):
        sentences = [r.sentence for r in s.reasons if r.direction == "raises"][:top]
        name = (names or {}).get(s.account_id)
        who = _account_ref(s.account_id, links) + (
            f'<br><span class="muted">{esc(short(name, 40))}</span>' if name else "")
        rows.append([f'<span class="nowrap">{rank}</span>', who,
                     f'<span class="nowrap"><span class="bar"><i style="width:'
                     f'{s.score * 100:.1f}%;background:{band_colour(s.band)}"></i></span> '
                     f"{esc(fmt_probability(s.score))}</span>",
                     band_badge(s.band),
                     "<ul class=\"tight\">" + "".join(f"<li>{esc(t)}</li>" for t in sentences)
                     + "</ul>"])
    as_of = fmt_time(ordered[0].as_of) if ordered else "unknown"
    body = (f'<header class="top"><div class="ident"><p class="kicker">accountrisk</p>'
            f"<h1>{esc(title)}</h1><p class=\"muted\">{len(ordered)} accounts as of "
            f"{esc(as_of)}, highest score first. Each account links to its case file.</p>"
            f'<div class="chips">{chips}</div></div></header><main><section>'
            f'{_table(["#", "account", "score", "band", "top reasons"], rows, visible=None)}'
            "</section></main>")
    return _page(f"{title} · accountrisk", body)
