"""The case report in a real headless Chromium: it renders, logs nothing, and hostile
marketplace text stays text.

Needs Debian's ``chromium``; run as root (as CI does) the session fixture installs it with
apt-get when it is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.plugin.cases import HOSTILE, HOSTILE_ID, hostile_case

BINARIES = ("chromium", "chromium-browser")
INSTALL_TIMEOUT_S = 900
RUN_TIMEOUT_S = 60
# Chromium logs every console message (errors, CSP violations, uncaught exceptions) as
# "...:INFO:CONSOLE:<line>] "<message>", source: ..." with --enable-logging=stderr.
CONSOLE = re.compile(r":CONSOLE\b|Uncaught|Content Security Policy")


def _find() -> str | None:
    return next((found for name in BINARIES if (found := shutil.which(name))), None)


@pytest.fixture(scope="session")
def chromium() -> str:
    found = _find()
    if found:
        return found
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("Debian's chromium is not installed and installing it needs root: "
                    "run `apt-get install -y chromium` (CI runs as root and installs it)")
    if shutil.which("apt-get") is None:
        pytest.skip("chromium is not installed and this system has no apt-get to install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"],
                    ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True,
                              timeout=INSTALL_TIMEOUT_S)
        if done.returncode != 0:
            pytest.fail(f"`{' '.join(command)}` failed:\n{done.stderr[-3000:]}")
    found = _find()
    assert found, "apt-get installed chromium but no chromium binary is on PATH"
    return found


def run(binary: str, profile: Path, page: Path, *options: str) -> subprocess.CompletedProcess:
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *options,
               page.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


class Dom(HTMLParser):
    """Tags, attribute names, text and the document title (the first <title>; SVG charts
    have their own) of a dumped DOM."""

    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text, self.titles = [], [], [], []
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k) for k, _ in attrs]
        self._in_title = tag == "title"
        if self._in_title:
            self.titles.append("")

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.titles[-1] += data
        else:
            self.text.append(data)

    @property
    def title(self) -> str:
        return self.titles[0] if self.titles else ""


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if CONSOLE.search(line)]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser-reports")
    _, case, index = hostile_case(folder)
    return case, index, folder


def test_case_report_renders_without_console_errors_and_hostile_text_stays_inert(
        chromium, pages, tmp_path):
    case, _, _ = pages
    done = run(chromium, tmp_path / "profile", case, "--dump-dom")
    assert console_lines(done.stderr) == []
    dom = Dom()
    dom.feed(done.stdout)
    text = " ".join(dom.text)
    assert dom.title == f"Case {HOSTILE_ID} · accountrisk"  # a script would have set 'pwned'

    assert "script" not in dom.tags
    assert not [a for a in dom.attrs if a[1].startswith("on")]
    assert HOSTILE in text and HOSTILE_ID in text
    assert "91%" in text and "Why this account is flagged" in text
    assert "shares payout destinations with 2 other accounts" in text
    assert dom.tags.count("svg") >= 4  # waterfall, hours, ring, timeline
    assert {"rect", "circle", "line"} <= set(dom.tags)


def test_case_report_and_index_paint(chromium, pages, tmp_path):
    case, index, _ = pages
    for name, page in (("case", case), ("index", index)):
        shot = tmp_path / f"{name}.png"
        done = run(chromium, tmp_path / f"profile-{name}", page, "--hide-scrollbars",
                   "--window-size=1280,2000", f"--screenshot={shot}")
        assert console_lines(done.stderr) == []
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # not a blank page


def test_index_in_the_browser_links_case_files_and_stays_inert(chromium, pages, tmp_path):
    case, index, _ = pages
    done = run(chromium, tmp_path / "profile", index, "--dump-dom")
    assert console_lines(done.stderr) == []
    assert case.name in done.stdout
    dom = Dom()
    dom.feed(done.stdout)
    assert "script" not in dom.tags and HOSTILE_ID in " ".join(dom.text)
    assert dom.title == "Review queue · accountrisk"
