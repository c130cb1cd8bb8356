"""Generated marketplaces the benchmarks share, cached under bench-data/."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path


def run_child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh Python process (peak memory is its own) with ``args`` as
    ``sys.argv[1:]``; returns the JSON object its last output line holds."""
    done = subprocess.run([sys.executable, "-c", code, *args], check=True,
                          stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def save_json(path: Path | None, rows: list[dict]) -> None:
    """With ``--json PATH``: the rows a benchmark printed, as a JSON list (for
    ``speed.py``'s summary)."""
    if path is not None:
        path.write_text(json.dumps(rows, indent=1))


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


def heavier_histories(folder: Path, copies: int) -> Path:
    """``folder`` with every session and activity row repeated ``copies`` times, copy k
    moved 7k minutes later (``<folder>-x<copies>``, other tables linked): the same accounts
    with ``copies`` times the events, as on a marketplace whose users work more. Rows moved
    past the end fall outside an "as of the end" pass."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    out = folder.with_name(f"{folder.name}-x{copies}")
    if (out / "generation.json").exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    moved = {"sessions.parquet": "started_at", "activity.parquet": "ts"}
    for source in sorted(folder.iterdir()):
        if source.name in moved or source.name == "generation.json":
            continue
        (out / source.name).symlink_to(source.resolve())
    for name, column in moved.items():
        table = pq.read_table(folder / name)
        at = table.schema.get_field_index(column)
        with pq.ParquetWriter(out / name, table.schema) as writer:
            for k in range(copies):
                shift = pa.scalar(timedelta(minutes=7 * k), pa.duration("us"))
                part = table.set_column(at, table.schema.field(at),
                                        pc.add(table[column], shift))
                writer.write_table(part.cast(table.schema), row_group_size=1_000_000)
    shutil.copy(folder / "generation.json", out / "generation.json")  # written last: done
    return out
