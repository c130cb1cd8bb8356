"""Code habits: ruff (lint and import order) and mypy (types) find nothing.

Both are in the ``test`` extra, so the test command runs them; their settings are in
pyproject.toml. mypy cannot follow the import hook of setuptools' editable install, so the
package folders are linked under ``.mypy_cache/src/accountrisk/`` as
``[tool.setuptools.package-dir]`` maps them (``[tool.mypy] mypy_path`` points there) and the
paths in mypy's report are mapped back to the real files.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINKS = ROOT / ".mypy_cache" / "src"  # [tool.mypy] mypy_path
TIMEOUT_S = 900  # a first mypy run without its cache takes about a minute


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed; it is in the test extra "
                    "(pip install -e \".[all,test]\")")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=TIMEOUT_S)


def _package_dirs() -> dict[str, Path]:
    """Import name -> folder of each subpackage, as the installed package is assembled."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return {name: ROOT / folder for name, folder in setuptools["package-dir"].items()}


def _link_package() -> dict[str, str]:
    """(Re)make the links mypy reads the package through; returns each link's path prefix
    (relative, as mypy reports it) -> the real folder's."""
    wanted: dict[Path, Path] = {LINKS.joinpath(*name.split(".")): folder
                                for name, folder in _package_dirs().items()}
    for path in LINKS.rglob("*") if LINKS.exists() else ():
        if path.is_symlink() and path not in wanted:
            path.unlink()  # a subpackage that is no longer mapped
    prefixes = {}
    for link, folder in wanted.items():
        target = os.path.relpath(folder, link.parent)
        if not (link.is_symlink() and os.readlink(link) == target):
            link.parent.mkdir(parents=True, exist_ok=True)
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(target, target_is_directory=True)
        shown = link.relative_to(ROOT).as_posix()
        prefixes[f"{shown}/"] = f"{folder.relative_to(ROOT).as_posix()}/"
    return prefixes


def test_ruff_finds_nothing():
    _require("ruff")
    done = _run("ruff", "check", "--no-fix", "--output-format", "concise", ".")
    if done.returncode != 0:
        pytest.fail(f"ruff check . found problems:\n{done.stdout}{done.stderr}", pytrace=False)


def test_mypy_finds_nothing_in_the_package():
    _require("mypy")
    prefixes = _link_package()
    done = _run("mypy", "-p", "accountrisk")
    report = done.stdout + done.stderr
    for link, real in prefixes.items():
        report = report.replace(link, real)
    if done.returncode != 0:
        pytest.fail(f"mypy -p accountrisk found problems:\n{report}", pytrace=False)
    # It really read the package: every module file, plus the `accountrisk` namespace.
    checked = re.search(r"in (\d+) source files?", report)
    files = sum(1 for folder in _package_dirs().values() for p in folder.rglob("*.py")
                if "__pycache__" not in p.parts)
    assert checked and int(checked.group(1)) >= files, report
