"""The case report's inline style sheet and Content-Security-Policy."""

from __future__ import annotations

# No scripts at all, styles only inline, images only as data: URIs; nothing is fetched.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
:root{--ink:#1f2933;--muted:#5b6472;--line:#e4e7eb;--paper:#fff;--bg:#f5f6f8;
--raise:#c0392b;--lower:#1f7a5a;--accent:#1d4ed8}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em;
overflow-wrap:anywhere}
a{color:var(--accent)}
header.top{background:var(--paper);border-bottom:1px solid var(--line);padding:20px 32px;
display:flex;gap:32px;align-items:flex-start;flex-wrap:wrap;position:relative}
header .back{position:absolute;top:8px;left:32px;font-size:13px}
.ident{flex:1 1 420px;min-width:0;padding-top:8px}
.kicker{margin:0;text-transform:uppercase;letter-spacing:.08em;font-size:12px;color:var(--muted)}
h1{margin:2px 0 4px;font-size:26px;font-weight:650;overflow-wrap:anywhere}
h1 code{font-size:inherit}
.name{margin:0 0 10px;font-size:17px;overflow-wrap:anywhere}
dl.facts{display:flex;flex-wrap:wrap;gap:6px 28px;margin:0}
dl.facts div{min-width:120px}
dt{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
dd{margin:0;font-weight:550}
.scorebox{flex:0 0 260px;border:2px solid;border-radius:10px;padding:14px 18px;text-align:center;
background:#fff}
.score{font-size:44px;font-weight:700;line-height:1.1;font-variant-numeric:tabular-nums}
.badge{display:inline-block;color:#fff;border-radius:999px;padding:2px 12px;font-size:13px;
font-weight:600;text-transform:uppercase;letter-spacing:.04em;white-space:nowrap}
td.num,.nowrap{white-space:nowrap;font-variant-numeric:tabular-nums}
.muted{color:var(--muted)}
.scorebox .muted{font-size:13px;margin:8px 0 0}
main{max-width:1180px;margin:0 auto;padding:8px 32px 32px}
section{background:var(--paper);border:1px solid var(--line);border-radius:10px;
padding:18px 22px;margin:18px 0}
h2{font-size:19px;margin:0 0 12px}
h3{font-size:15px;margin:18px 0 8px;color:var(--muted)}
.lead{margin:0 0 12px}
ul.reasons{list-style:none;margin:0;padding:0}
li.reason{border-left:4px solid var(--raise);padding:10px 14px;margin:0 0 12px;
background:#fdf6f5;border-radius:0 8px 8px 0}
li.reason.lowers{border-left-color:var(--lower);background:#f3faf6}
.reason-head{display:flex;gap:10px;align-items:flex-start}
.arrow{color:var(--raise);font-size:14px;padding-top:3px}
.lowers .arrow{color:var(--lower)}
.sentence{margin:0;flex:1;font-size:16px;font-weight:550;overflow-wrap:anywhere}
.contrib{font-size:12.5px;color:var(--muted);text-align:right;white-space:nowrap;
font-variant-numeric:tabular-nums}
.meta{font-size:12.5px;color:var(--muted);margin:2px 0 0 24px}
.evidence-block{margin:8px 0 0 24px}
table.evidence{border-collapse:collapse;width:100%;margin:6px 0;font-size:13.5px;background:#fff}
table.evidence th{text-align:left;font-weight:600;color:var(--muted);font-size:12px;
text-transform:uppercase;letter-spacing:.04em;border-bottom:1px solid var(--line);padding:5px 8px}
table.evidence td{border-bottom:1px solid var(--line);padding:5px 8px;vertical-align:top;
overflow-wrap:anywhere}
.flag{display:inline-block;background:#fde8e6;color:#8a1c12;border-radius:4px;padding:0 6px;
font-size:12px;font-weight:600;white-space:nowrap}
.chips{display:flex;flex-wrap:wrap;gap:6px;margin:6px 0}
.chip{background:#eef1f5;border-radius:6px;padding:2px 8px;font-size:12.5px}
ul.notes{margin:6px 0;padding-left:18px;font-size:13.5px;color:var(--muted)}
.note{font-size:13px;color:var(--muted)}
.two{display:grid;grid-template-columns:minmax(0,1.1fr) minmax(0,1fr);gap:20px;align-items:start}
@media (max-width:900px){.two{grid-template-columns:1fr}}
.bar{display:inline-block;width:90px;height:8px;background:#eef1f5;border-radius:4px;
vertical-align:middle;overflow:hidden}
.bar i{display:block;height:100%}
footer{max-width:1180px;margin:0 auto;padding:0 32px 32px;font-size:12.5px;color:var(--muted)}
svg{display:block;margin:6px 0;height:auto}
details{margin:0 0 6px}
ul.tight{margin:0;padding-left:16px}
summary{cursor:pointer;color:var(--accent);font-size:13px;padding:2px 0}
"""
