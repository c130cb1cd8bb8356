"""``accountrisk demo``: the main job end to end on embedded defaults."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow.parquet as pq

from ..features.api import compute_features
from ..features.workspace import ensure_loaded, open_database
from ._console import out, print_report, progress_bar


def demo_pipeline(workdir: Path, *, accounts: int = 20_000, seed: int = 7) -> None:
    """Generate, validate and build signals; print where everything is."""
    from ..features.synthetic import generate

    started = time.perf_counter()
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "marketplace"
    with progress_bar(f"1/3 generate {accounts:,} accounts") as update:
        summary = generate(data_dir, accounts=accounts, seed=seed,
                           progress=lambda step, fraction: update(step, fraction))
    with open_database(workdir) as engine, progress_bar("2/3 validate") as update:
        report = ensure_loaded(engine, data_dir, force=True, progress=update)
    print_report(report)
    as_of = summary.get("suggested_as_of") or summary.get("end")
    with progress_bar("3/3 signals") as update:
        table = compute_features(data_dir, as_of, workdir=workdir, progress=update)
    features_file = workdir / "features.parquet"
    pq.write_table(table, features_file)
    out.print(f"\nDone in {time.perf_counter() - started:.0f} s.", markup=False)
    out.print(f"  marketplace:  {data_dir} (ground truth: {data_dir / 'ground_truth.parquet'})",
              markup=False)
    out.print(f"  database:     {workdir / 'accountrisk.duckdb'}", markup=False)
    out.print(f"  signals:      {features_file} ({table.num_rows:,} accounts, "
              f"{table.num_columns - 1} signals, as of {as_of})", markup=False)
