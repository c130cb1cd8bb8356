"""The ``facilitators`` command: the entities behind the fronts, ranked by the risk they
carry (see :mod:`accountrisk.scoring.facilitators`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..features.errors import AccountRiskError
from ..features.workspace import DEFAULT_WORKDIR
from ._score_commands import DEFAULT_MODEL, AsOf, Model, _scorer, _write
from .cli import DataDir, MemoryLimit, Workdir, _fail, app


@app.command()
def facilitators(
    data_dir: DataDir,
    as_of: AsOf,
    model: Model = DEFAULT_MODEL,
    top: Annotated[int, typer.Option("--top", help="Entities ranked.")] = 50,
    kind: Annotated[Optional[list[str]], typer.Option(
        "--kind", help="Only these kinds (repeat): payout, ip, asn, device, client.")] = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="Write every ranked entity: .json (with its accounts), .csv or "
                      ".parquet (one row each).")] = None,
    limit: Annotated[int, typer.Option(help="Entities printed (all go to --out).")] = 20,
    workdir: Workdir = DEFAULT_WORKDIR,
    memory_limit: MemoryLimit = None,
) -> None:
    """Payout destinations, residential IPs and networks, devices and client accounts that
    serve many risky accounts, ranked by excess risk (not by size), with their accounts."""
    from ..scoring.facilitators import KINDS, facilitators_table, rank_facilitators

    if out is not None and out.suffix.lower() not in (".json", ".csv", ".parquet"):
        raise typer.BadParameter("--out must end in .json, .csv or .parquet", param_hint="--out")
    try:
        scorer = _scorer(model)
        found = rank_facilitators(scorer, data_dir, as_of, workdir=workdir, top=top,
                                  kinds=tuple(kind) if kind else KINDS,
                                  memory_limit=memory_limit)
    except AccountRiskError as error:
        _fail(error)
    if out is not None:
        if out.suffix.lower() == ".json":
            out.write_text(json.dumps([f.model_dump(mode="json") for f in found], indent=1),
                           encoding="utf-8")
        else:
            _write(facilitators_table(found), out)
    lines = [f"{len(found)} entities ranked by excess risk x risky share, as of {as_of}"]
    for i, f in enumerate(found[:limit], 1):
        accounts = ", ".join(a.account_id + ("*" if a.is_confirmed else "")
                             for a in f.accounts[:6])
        more = ", …" if f.account_count > 6 else ""
        lines.append(f"{i:>3}. {f.summary()}: {accounts}{more}")
    if found:
        lines.append("(* confirmed fraudulent before the as-of time)")
    sys.stdout.write("\n".join(lines) + "\n")
