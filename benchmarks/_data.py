"""Generated marketplaces the benchmarks share, cached under bench-data/."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path


def run_child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh Python process (peak memory is its own) with ``args`` as
    ``sys.argv[1:]``; returns the JSON object its last output line holds."""
    done = subprocess.run([sys.executable, "-c", code, *args], check=True,
                          stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(head: tuple[str, ...], rows: list[list[str]]) -> None:
    """A Markdown table on stdout."""
    print("\n| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def ensure_data(root: Path, accounts: int, seed: int, *, mode: str = "classic"
                ) -> tuple[Path, dict, float]:
    """Generate (or reuse) ``root/n<accounts>-s<seed>`` (``root/<mode>-n<accounts>-s<seed>``
    for another generator mode); returns folder, summary and the generation seconds (NaN
    when reused)."""
    from accountrisk.synthetic import generate

    prefix = "" if mode == "classic" else f"{mode}-"
    folder = Path(root) / f"{prefix}n{accounts}-s{seed}"
    meta = folder / "generation.json"
    if meta.exists():
        return folder, json.loads(meta.read_text()), float("nan")
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    options = {} if mode == "classic" else {"mode": mode}
    summary = generate(folder, accounts=accounts, seed=seed, **options)
    return folder, summary, time.perf_counter() - started
