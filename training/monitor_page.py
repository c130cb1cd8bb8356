"""The monitor's HTML page: a table of PSI values and, per top feature and for the score,
reference vs current bin shares as inline SVG bars (no scripts, nothing loaded)."""

from __future__ import annotations

from html import escape
from typing import Any

WIDTH, HEIGHT = 360, 110


def bars_svg(name: str, then: list[float], now: list[float]) -> str:
    """Paired bars per bin: grey the training reference, blue today."""
    top = max([*then, *now, 1e-9])
    step = WIDTH / max(1, len(then))
    parts = []
    for i, (a, b) in enumerate(zip(then, now)):
        for j, (value, colour) in enumerate(((a, "#9aa0a6"), (b, "#1a73e8"))):
            h = (HEIGHT - 20) * value / top
            x = i * step + 2 + j * (step - 4) / 2
            parts.append(f'<rect x="{x:.1f}" y="{HEIGHT - 15 - h:.1f}" '
                         f'width="{max(1.0, (step - 4) / 2 - 1):.1f}" height="{h:.1f}" '
                         f'fill="{colour}"><title>bin {i + 1}: {value:.1%}</title></rect>')
    label = f'<text x="0" y="{HEIGHT - 2}" font-size="10">{escape(name)}</text>'
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'role="img" aria-label="{escape(name)}">{"".join(parts)}{label}</svg>')


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def render_monitor(report: Any) -> str:
    """The whole page for a :class:`~.monitor.MonitorReport`."""
    verdict = (f"Drift above PSI {report.threshold:g}: {', '.join(report.drifted)}"
               if report.drifted else f"No top feature above PSI {report.threshold:g}")
    rows = "".join(
        f"<tr><td><code>{escape(f)}</code></td><td>{report.psi.get(f, 0.0):.3f}</td>"
        f"<td>{'top' if f in report.top else ''}</td></tr>"
        for f in sorted(report.psi, key=lambda f: -report.psi[f]))
    bands = "".join(f"<tr><td>{escape(b or 'none')}</td><td>{then:.1%}</td>"
                    f"<td>{now:.1%}</td></tr>" for b, (then, now) in report.band_shares.items())
    charts = "".join(f"<figure>{bars_svg(name, *report.bins[name])}<figcaption>"
                     f"{escape(name)}: PSI {report.psi.get(name, report.score_psi):.3f}"
                     "</figcaption></figure>"
                     for name in ["score", *report.top] if name in report.bins)
    trained = f"{report.trained_as_of:%Y-%m-%d}" if report.trained_as_of else "unknown"
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>accountrisk monitor {report.as_of:%Y-%m-%d}</title>
<style>body{{font-family:sans-serif;margin:2em}}figure{{display:inline-block;margin:.5em}}
td,th{{padding:2px 8px;text-align:left}}</style></head><body>
<h1>Monitor as of {report.as_of:%Y-%m-%d %H:%M} UTC</h1>
<p>Model {escape(report.model_version)}, trained as of {trained}; {report.population:,} active
accounts. <b>{escape(verdict)}</b>. Score PSI {report.score_psi:.3f}.</p>
<p>Decisions since training: {report.label_decisions} labels, confirmed rate
{_fmt(report.label_rate)}; queue precision as reviewers decided it {_fmt(report.queue_precision)}
over {report.queue_decisions} decisions on queued accounts.</p>
<h2>Score and top features</h2><p>Grey: training reference; blue: now.</p>{charts}
<h2>Band shares</h2><table><tr><th>band</th><th>training</th><th>now</th></tr>{bands}</table>
<h2>PSI per feature</h2><table><tr><th>feature</th><th>PSI</th><th></th></tr>{rows}</table>
</body></html>
"""
