"""Inline SVG charts for the analyst's case report: no scripts, no external resources.

Every piece of marketplace text (account ids, tokens, kinds, zone names) goes through
:func:`esc` before it lands in an element or an attribute.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from accountrisk.features.signals import working_hours

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK, MUTED, GRID = "#1f2933", "#5b6472", "#e4e7eb"
RAISES, LOWERS = "#c0392b", "#1f7a5a"
BAND_COLOURS = {"high": "#b42318", "elevated": "#d9480f", "watch": "#a16207", "": "#5b6472"}
KIND_COLOURS = {
    "payout": "#7c3aed", "ip": "#0369a1", "device": "#0f766e",
    "portfolio_link": "#b45309", "portfolio_image": "#be185d", "portfolio_text": "#c2410c",
    "profile_photo": "#9d174d",
}
OTHER_KIND_COLOURS = ("#475569", "#64748b", "#334155", "#94a3b8")
# The working-hours family's own definitions, so the chart shades what the signals count.
BUSINESS_HOURS = (working_hours.BUSINESS_START_HOUR, working_hours.BUSINESS_END_HOUR)
NIGHT_HOURS = (0, working_hours.NIGHT_END_HOUR)


def esc(value: Any) -> str:
    """Text safe inside HTML/SVG elements and double- or single-quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def short(text: Any, limit: int) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def band_colour(band: str | None) -> str:
    return BAND_COLOURS.get(band or "", BAND_COLOURS[""])


def kind_colours(kinds: Sequence[str]) -> dict[str, str]:
    """A stable colour per link kind; the marketplace's own kinds share a grey palette."""
    out, extra = {}, 0
    for kind in sorted(set(kinds)):
        if kind in KIND_COLOURS:
            out[kind] = KIND_COLOURS[kind]
        else:
            out[kind] = OTHER_KIND_COLOURS[extra % len(OTHER_KIND_COLOURS)]
            extra += 1
    return out


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="100%" role="img" aria-label="{esc(label)}" '
            f'style="max-width:{width}px;font-family:{esc(FONT)}">'
            f'<title>{esc(label)}</title>{"".join(body)}</svg>')


def _text(x: float, y: float, text: Any, *, size: int = 11, fill: str = MUTED,
          anchor: str = "start", weight: str = "normal", tooltip: Any = None) -> str:
    title = f"<title>{esc(tooltip)}</title>" if tooltip is not None else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" '
            f'text-anchor="{anchor}" font-weight="{weight}">{title}{esc(text)}</text>')


def _nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    span = max(high - low, 1e-9)
    raw = span / count
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * step:
            step *= factor
            break
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


# -- SHAP waterfall --------------------------------------------------------------------------
def waterfall_svg(steps: Sequence[tuple[str, float]], base: float, final: float | None = None,
                  *, final_label: str = "") -> str:
    """Horizontal SHAP waterfall in log-odds: from the model's expected value, each
    ``(label, contribution)`` moves the running total; ``final`` (the raw margin) adds an
    "all other features" step for what the listed ones leave out."""
    steps = list(steps)
    if final is not None:
        rest = final - base - sum(v for _, v in steps)
        if abs(rest) > 1e-9:
            steps.append(("all other features", rest))
    end = base + sum(v for _, v in steps)
    totals = [base]
    for _, step in steps:
        totals.append(totals[-1] + step)
    low, high = min(totals), max(totals)
    pad = max((high - low) * 0.08, 0.25)
    low, high = low - pad, high + pad
    width, left, right, row, top = 760, 230, 70, 28, 34
    height = top + row * (len(steps) + 2) + 26
    scale = (width - left - right) / (high - low)

    def x(v: float) -> float:
        return left + (v - low) * scale

    body = []
    for tick in _nice_ticks(low, high):
        body.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top - 8}" '
                    f'y2="{height - 26}" stroke="{GRID}"/>')
        body.append(_text(x(tick), height - 10, f"{tick:+.1f}" if tick else "0",
                          size=10, anchor="middle"))
    body.append(_text(left, 16, "log-odds (model margin)", size=10))
    # (label, contribution or None for a total, running total)
    rows: list[tuple[str, float | None, float]] = [("expected value (average account)", None, base)]
    rows += [(label, value, totals[i + 1]) for i, (label, value) in enumerate(steps)]
    rows.append((final_label or "this account", None, end))
    for i, (label, value, total) in enumerate(rows):
        y = top + i * row
        body.append(_text(left - 10, y + 16, short(label, 36), size=11, fill=INK,
                          anchor="end", tooltip=label))
        if value is None:
            body.append(f'<line x1="{x(total):.1f}" x2="{x(total):.1f}" y1="{y + 2}" '
                        f'y2="{y + row - 4}" stroke="{INK}" stroke-width="3"/>')
            body.append(_text(x(total) + 6, y + 16, f"{total:+.2f}", size=11, fill=INK,
                              weight="600"))
            continue
        start = total - value
        colour = RAISES if value > 0 else LOWERS
        x0, x1 = sorted((x(start), x(total)))
        body.append(f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 1.5):.1f}" '
                    f'height="{row - 10}" rx="2" fill="{colour}"><title>{esc(label)}: '
                    f'{value:+.3f} log-odds</title></rect>')
        if i + 1 < len(rows):
            body.append(f'<line x1="{x(total):.1f}" x2="{x(total):.1f}" y1="{y + row - 6}" '
                        f'y2="{y + row + 4}" stroke="{MUTED}" stroke-dasharray="2 2"/>')
        body.append(_text(x1 + 5, y + 16, f"{value:+.2f}", size=11, fill=colour))
    return _svg(width, height, "SHAP waterfall: how each reason moves the score", body)


# -- hours -----------------------------------------------------------------------------------
def hours_svg(histogram: Sequence[int], zone: str | None) -> str:
    """Work actions per clock hour in the claimed zone, 09-18 business hours shaded."""
    counts = [int(c) for c in list(histogram)[:24]] + [0] * max(0, 24 - len(histogram))
    width, height, left, right, top, bottom = 760, 250, 48, 16, 34, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(max(counts), 1)
    ticks = [t for t in _nice_ticks(0, peak, 4) if t <= peak]
    slot = plot_w / 24

    def y(v: float) -> float:
        return top + plot_h - v / peak * plot_h

    body = [
        f'<rect x="{left + BUSINESS_HOURS[0] * slot:.1f}" y="{top}" '
        f'width="{(BUSINESS_HOURS[1] - BUSINESS_HOURS[0]) * slot:.1f}" height="{plot_h}" '
        f'fill="#e6f4ea"/>',
        f'<rect x="{left + NIGHT_HOURS[0] * slot:.1f}" y="{top}" '
        f'width="{(NIGHT_HOURS[1] - NIGHT_HOURS[0]) * slot:.1f}" height="{plot_h}" '
        f'fill="#eef0f6"/>',
        _text(left + (BUSINESS_HOURS[0] + BUSINESS_HOURS[1]) / 2 * slot, top - 8,
              f"normal working hours {BUSINESS_HOURS[0]:02d}:00-{BUSINESS_HOURS[1]:02d}:00",
              size=10, fill="#1e6b3a", anchor="middle"),
        _text(left + NIGHT_HOURS[1] / 2 * slot, top - 8, f"night 00:00-{NIGHT_HOURS[1]:02d}:00",
              size=10, fill="#3b4a6b", anchor="middle"),
    ]
    for t in ticks:
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
                    f'stroke="{GRID}"/>')
        body.append(_text(left - 6, y(t) + 4, f"{t:g}", size=10, anchor="end"))
    for hour, count in enumerate(counts):
        if BUSINESS_HOURS[0] <= hour < BUSINESS_HOURS[1]:
            colour = "#2f6f4f"
        elif NIGHT_HOURS[0] <= hour < NIGHT_HOURS[1]:
            colour = "#c0392b"
        else:
            colour = "#7a5c2e"
        bar = plot_h * count / peak
        body.append(f'<rect x="{left + hour * slot + 2:.1f}" y="{top + plot_h - bar:.1f}" '
                    f'width="{slot - 4:.1f}" height="{bar:.1f}" fill="{colour}">'
                    f'<title>{hour:02d}:00-{hour:02d}:59: {count} actions</title></rect>')
        if hour % 3 == 0:
            body.append(_text(left + (hour + 0.5) * slot, height - bottom + 16,
                              f"{hour:02d}:00", size=10, anchor="middle"))
    body.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
                f'y2="{top + plot_h}" stroke="{MUTED}"/>')
    body.append(_text(left + plot_w / 2, height - 6,
                      f"hour of day in the claimed time zone {zone or 'on the profile'}",
                      size=11, fill=INK, anchor="middle"))
    return _svg(width, height, f"work actions per hour in {zone or 'the claimed zone'}", body)


# -- ring ------------------------------------------------------------------------------------
def ring_svg(ring: dict[str, Any]) -> str:
    """The link group on a circle: nodes coloured by band, the account outlined in blue,
    confirmed accounts ringed in black, edges coloured by link kind, with a legend."""
    members = ring.get("members", [])
    edges = ring.get("edges", [])
    colours = kind_colours([k for e in edges for k in e["kinds"]])
    n = max(len(members), 1)
    size, radius = 520, 190 if n > 2 else 120
    cx = cy = size / 2
    at = {}
    for i, m in enumerate(members):
        angle = -math.pi / 2 + 2 * math.pi * i / n
        at[m["account_id"]] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle),
                               angle)
    body = []
    for e in edges:
        if e["a"] not in at or e["b"] not in at:
            continue
        (x1, y1, _), (x2, y2, _) = at[e["a"]], at[e["b"]]
        length = math.hypot(x2 - x1, y2 - y1) or 1
        nx, ny = -(y2 - y1) / length, (x2 - x1) / length
        for j, kind in enumerate(e["kinds"]):
            off = (j - (len(e["kinds"]) - 1) / 2) * 3.5
            dash = "" if kind in KIND_COLOURS else ' stroke-dasharray="5 3"'
            body.append(f'<line x1="{x1 + nx * off:.1f}" y1="{y1 + ny * off:.1f}" '
                        f'x2="{x2 + nx * off:.1f}" y2="{y2 + ny * off:.1f}" '
                        f'stroke="{colours[kind]}" stroke-width="2.2" opacity="0.85"{dash}>'
                        f'<title>{esc(e["a"])} – {esc(e["b"])}: {esc(kind)}</title></line>')
    for m in members:
        x, y, angle = at[m["account_id"]]
        r = 13 if m.get("is_subject") else 9
        fill = band_colour(m.get("band")) if m.get("score") is not None else "#cbd2d9"
        stroke = "#1d4ed8" if m.get("is_subject") else ("#111" if m.get("confirmed") else "#fff")
        width = 4 if m.get("is_subject") or m.get("confirmed") else 1.5
        score = f", score {m['score']:.2f}" if m.get("score") is not None else ""
        status = ", confirmed fraudulent" if m.get("confirmed") else ""
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}" '
                    f'stroke="{stroke}" stroke-width="{width}"><title>{esc(m["account_id"])}'
                    f'{esc(score)}{esc(status)}</title></circle>')
        lx, ly = x + (r + 8) * math.cos(angle), y + (r + 8) * math.sin(angle) + 4
        anchor = "start" if math.cos(angle) > 0.3 else ("end" if math.cos(angle) < -0.3
                                                         else "middle")
        body.append(_text(lx, ly, short(m["account_id"], 16), size=10, fill=INK,
                          anchor=anchor, weight="600" if m.get("is_subject") else "normal",
                          tooltip=m["account_id"]))
    legend_y = size + 10
    items = [(colours[k], k, ring.get("link_kinds", {}).get(k)) for k in sorted(colours)]
    legend = []
    for i, (colour, kind, count) in enumerate(items):
        lx, ly = 14 + (i % 3) * 170, legend_y + (i // 3) * 20
        legend.append(f'<line x1="{lx}" x2="{lx + 22}" y1="{ly}" y2="{ly}" stroke="{colour}" '
                      f'stroke-width="3"/>')
        legend.append(_text(lx + 28, ly + 4, f"{kind} ({count})" if count else kind,
                            size=11, fill=INK))
    base = legend_y + ((len(items) + 2) // 3) * 20 + 6
    legend += [f'<circle cx="22" cy="{base}" r="7" fill="#cbd2d9" stroke="#1d4ed8" '
               'stroke-width="3"/>', _text(36, base + 4, "this account", size=11, fill=INK),
               f'<circle cx="150" cy="{base}" r="7" fill="#cbd2d9" stroke="#111" '
               'stroke-width="3"/>',
               _text(164, base + 4, "confirmed fraudulent before as-of", size=11, fill=INK),
               f'<circle cx="390" cy="{base}" r="7" fill="{BAND_COLOURS["high"]}"/>',
               _text(404, base + 4, "fill: review band", size=11, fill=INK)]
    return _svg(size, base + 18, f"link group {ring.get('group_id', '')}", body + legend)


# -- timeline --------------------------------------------------------------------------------
def timeline_svg(timeline: dict[str, Any]) -> str:
    """First to last use of each payout destination, device and IP, on one time axis from
    sign-up to as-of."""
    tracks = timeline.get("tracks", [])
    as_of: datetime = timeline["as_of"]
    starts = [t["first_seen"] for t in tracks if t.get("first_seen")]
    if timeline.get("created_at"):
        starts.append(timeline["created_at"])
    begin = min(starts) if starts else as_of
    span = max((as_of - begin).total_seconds(), 86400.0)
    width, left, right, row, top = 760, 150, 80, 20, 28
    height = top + row * len(tracks) + 40

    def x(moment: datetime) -> float:
        return left + (moment - begin).total_seconds() / span * (width - left - right)

    colours = {"payout": KIND_COLOURS["payout"], "device": KIND_COLOURS["device"],
               "ip": KIND_COLOURS["ip"]}
    body = []
    years = sorted({begin.year + i for i in range(as_of.year - begin.year + 1)})
    marks = [datetime(y, m, 1) for y in years for m in (1, 4, 7, 10)
             if begin <= datetime(y, m, 1) <= as_of]
    step = max(1, len(marks) // 8)
    for mark in marks[::step]:
        body.append(f'<line x1="{x(mark):.1f}" x2="{x(mark):.1f}" y1="{top - 6}" '
                    f'y2="{height - 30}" stroke="{GRID}"/>')
        body.append(_text(x(mark), height - 14, f"{mark:%b %Y}", size=10, anchor="middle"))
    for moment, label in ((timeline.get("created_at"), "sign-up"), (as_of, "as of")):
        if moment is not None:
            body.append(f'<line x1="{x(moment):.1f}" x2="{x(moment):.1f}" y1="{top - 12}" '
                        f'y2="{height - 30}" stroke="{INK}" stroke-dasharray="3 3"/>')
            body.append(_text(x(moment), top - 16, label, size=10, fill=INK, anchor="middle"))
    for i, t in enumerate(tracks):
        y = top + i * row
        colour = colours.get(t["kind"], MUTED)
        body.append(_text(left - 8, y + 13, t["token"], size=11, fill=colour, anchor="end"))
        x0, x1 = x(t["first_seen"]), x(t["last_seen"] or t["first_seen"])
        tip = (f"{t['kind']} {t['token']}: {t['first_seen']:%Y-%m-%d} to "
               f"{(t['last_seen'] or t['first_seen']):%Y-%m-%d}, {t['count']} uses")
        body.append(f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 4):.1f}" height="11" '
                    f'rx="3" fill="{colour}" opacity="0.85"><title>{esc(tip)}</title></rect>')
        shared = t.get("shared_with") or 0
        if shared:
            body.append(_text(width - right + 6, y + 13, f"+{shared} others", size=10,
                              fill=RAISES, tooltip=f"used by {shared} other accounts"))
    return _svg(width, height, "timeline of payout destinations, devices and IPs", body)
