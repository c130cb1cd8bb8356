"""Generated marketplaces the benchmarks share, cached under bench-data/."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path


def ensure_data(root: Path, accounts: int, seed: int, mode: str = "classic"
                ) -> tuple[Path, dict, float]:
    """Generate (or reuse) ``root/n<accounts>-s<seed>`` (``-<mode>`` added for a generator
    mode other than classic); returns folder, summary and the generation seconds (NaN when
    reused)."""
    from accountrisk.synthetic import generate

    name = f"n{accounts}-s{seed}" + ("" if mode == "classic" else f"-{mode}")
    folder = Path(root) / name
    meta = folder / "generation.json"
    if meta.exists():
        return folder, json.loads(meta.read_text()), float("nan")
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    summary = generate(folder, accounts=accounts, seed=seed, mode=mode)
    return folder, summary, time.perf_counter() - started
