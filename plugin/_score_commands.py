"""The ``score``, ``explain``, ``queue`` and ``rings`` commands (registered on the CLI app)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional, cast

import typer

from ..features.errors import AccountRiskError
from ..features.workspace import DEFAULT_WORKDIR
from .cli import (
    DataDir,
    EngineChoice,
    Master,
    MemoryLimit,
    SparkConf,
    Workdir,
    _fail,
    app,
    spark_settings,
)

DEFAULT_MODEL = "models:/accountrisk@champion"
Model = Annotated[str, typer.Option(
    "--model", envvar="ACCOUNTRISK_MODEL",
    help="Model directory or MLflow registry URI (environment: ACCOUNTRISK_MODEL).")]
AsOf = Annotated[str, typer.Option("--as-of", help="ISO date or date-time, UTC: only data "
                                                   "before it is used.")]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def _engine(data_dir: str, workdir: Path, memory_limit: str | None) -> Iterator[Any]:
    from ..features.engines import open_engine

    with open_engine("duckdb", data_dir=data_dir, workdir=workdir,
                     memory_limit=memory_limit) as engine:
        yield engine


def _scorer(model: str):
    from ..scoring.scorer import RiskScorer

    _say(f"loading model {model}")
    return RiskScorer.load(model)


def _write(table: Any, out: Path) -> None:
    from ..features.table_files import write_arrow

    try:
        write_arrow(table, out)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


@app.command()
def score(
    data_dir: DataDir,
    as_of: AsOf,
    out: Annotated[Path, typer.Option("--out", help="Output file, .parquet or .csv.")],
    model: Model = DEFAULT_MODEL,
    reasons_for: Annotated[str, typer.Option(
        help="Which accounts get reasons: a band name (that band and narrower), 'banded', "
             "'all', or a number k (the k highest scores).")] = "elevated",
    workdir: Workdir = DEFAULT_WORKDIR,
    memory_limit: MemoryLimit = None,
    engine: EngineChoice = "duckdb",
    master: Master = None,
    spark_conf: SparkConf = None,
) -> None:
    """Score every account of DATA_DIR as of a time: account_id, score, band, reasons.

    With --engine spark the reasons are the template sentences without the lists of other
    accounts (those read the DuckDB tables; `accountrisk explain` shows them), and an --out
    without an extension is written as a Spark Parquet directory."""
    if master is not None and engine != "spark":
        _fail(AccountRiskError("--master needs --engine spark"))
    settings = spark_settings(spark_conf, engine)
    if out.suffix.lower() not in (".parquet", ".csv") and not (engine == "spark"
                                                                and not out.suffix):
        _fail(AccountRiskError(f"{out}: the output must end in .parquet or .csv"))
    try:
        scorer = _scorer(model)
        explain = scorer.explain_selection(reasons_for)  # a wrong band fails before the work
    except AccountRiskError as error:
        _fail(error)
    if engine == "spark":
        try:
            written = _score_on_spark(data_dir, scorer, as_of, out, explain, master,
                                      settings)
        except AccountRiskError as error:
            _fail(error)
        _say(f"scored {written.accounts:,} accounts on Spark ({written.banded:,} in a review "
             f"band, {written.with_reasons:,} with reasons)")
        sys.stdout.write(f"{out}\n")
        return
    try:
        with _engine(data_dir, workdir, memory_limit) as engine:
            _say("computing features")
            batch = scorer.score_database(engine, as_of, reasons_for=explain)
    except AccountRiskError as error:
        _fail(error)
    table = batch.frame.sort_by([("score", "descending"), ("account_id", "ascending")])
    _write(table, out)
    banded = sum(1 for b in table.column("band").to_pylist() if b)
    _say(f"scored {table.num_rows:,} accounts ({banded:,} in a review band, "
         f"{len(batch.explained):,} with reasons)")
    sys.stdout.write(f"{out}\n")


def _score_on_spark(data_dir: str, scorer: Any, as_of: str, out: Path, explain: Any,
                    master: str | None, spark_conf: dict[str, str]) -> Any:
    """Validate, load, compute features and score on Spark with a loaded scorer (a missing
    or corrupt model failed before Spark started); write ``out``."""
    from ..features.engines import open_engine
    from ..features.pipeline import build_features_table
    from ..features.sources import shown
    from ..features.spark import SparkEngine
    from ..scoring.spark_batch import score_spark, write_scores

    _say(f"loading {shown(data_dir)} on Spark")
    with open_engine("spark", data_dir=data_dir, master=master,
                     spark_conf=spark_conf) as opened:
        spark = cast(SparkEngine, opened)  # the engine of kind "spark"
        _say("computing features on Spark")
        table = build_features_table(spark, as_of)
        try:
            scores = score_spark(spark.spark.table(table), scorer, as_of=as_of,
                                 reasons_for=explain, contexts=spark.spark.table("accounts"))
            return write_scores(scores, out, overwrite=True)
        finally:
            spark.drop([table])


@app.command()
def explain(
    data_dir: DataDir,
    account_id: Annotated[str, typer.Argument(help="The account to explain.")],
    as_of: AsOf,
    model: Model = DEFAULT_MODEL,
    html: Annotated[Optional[Path], typer.Option(
        "--html", help="Also write the account's case report to this HTML file.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    workdir: Workdir = DEFAULT_WORKDIR,
    memory_limit: MemoryLimit = None,
) -> None:
    """Score one account and show its reasons with their evidence."""
    from ..features.sources import shown
    from ..scoring.scorer import reason_text
    from .report_files import case_decisions, case_inputs
    from .report_html import render_case_report

    try:
        scorer = _scorer(model)
        with _engine(data_dir, workdir, memory_limit) as engine:
            batch = scorer.score_database(engine, as_of, reasons_for=False,
                                          explain_accounts=[account_id])
            if account_id not in batch.explained:
                raise AccountRiskError(f"account {account_id!r} is not in {shown(data_dir)}")
            result = batch.explained[account_id]
            inputs = case_inputs(engine, as_of, account_id, scores=batch.frame) \
                if html is not None else {}
            history = case_decisions(workdir, engine, result, inputs.get("ring"))
            if html is not None:
                html.parent.mkdir(parents=True, exist_ok=True)
                html.write_text(render_case_report(
                    result, expected_log_odds=scorer.expected_log_odds, decisions=history,
                    **inputs), encoding="utf-8")
    except AccountRiskError as error:
        _fail(error)
    if json_out:
        answer = {**json.loads(result.model_dump_json()), "decisions": history["account"],
                  "linked_decisions": history["linked"]}
        sys.stdout.write(json.dumps(answer, indent=1) + "\n")
    else:
        lines = [f"{result.account_id}: score {result.score:.3f}, band "
                 f"{result.band or 'none'} (model {result.model_version}, as of "
                 f"{result.as_of:%Y-%m-%d %H:%M})"]
        for r in result.reasons:
            lines.append(f"  {'+' if r.direction == 'raises' else '-'} {reason_text(r)}  "
                         f"[{r.feature} = {r.value}, {r.contribution_log_odds:+.2f} log-odds, "
                         f"{r.contribution_probability:+.1%}]")
            for note in r.evidence.notes:
                lines.append(f"      {note}")
            for token in r.evidence.tokens[:5]:
                lines.append(f"      {token.kind} {token.token}: {token.account_count} other "
                             f"accounts, {token.confirmed_count} confirmed")
        for d in history["account"] + history["linked"]:
            lines.append(f"  decision: {d['sentence']}")
        sys.stdout.write("\n".join(lines) + "\n")
    if html is not None:
        _say(f"case report: {html}")


@app.command()
def queue(
    data_dir: DataDir,
    as_of: AsOf,
    out: Annotated[Path, typer.Option("--out", help="Folder for the queue file and the "
                                                    "case reports.")],
    model: Model = DEFAULT_MODEL,
    top: Annotated[Optional[int], typer.Option("--top", help="The K highest scores.")] = None,
    band: Annotated[Optional[str], typer.Option(
        "--band", help="Accounts in this band or a narrower one (default: elevated).")
    ] = None,
    workdir: Workdir = DEFAULT_WORKDIR,
    memory_limit: MemoryLimit = None,
) -> None:
    """Write the review queue (queue.parquet and queue.csv) and one case report per account;
    print the report index's path."""
    from ._console import progress_bar
    from ._queue import write_queue

    if top is not None and band is not None:
        _fail(AccountRiskError("give --top or --band, not both"))
    try:
        scorer = _scorer(model)
        chosen = scorer.explain_selection(top if top is not None else (band or "elevated"))
        with _engine(data_dir, workdir, memory_limit) as engine, \
                progress_bar("case reports") as update:
            files = write_queue(engine, scorer, as_of, out, chosen, say=_say, progress=update,
                                workdir=workdir)
    except AccountRiskError as error:
        _fail(error)
    _say(f"queue: {files.files[0]}")
    sys.stdout.write(f"{files.index}\n")


@app.command()
def rings(
    data_dir: DataDir,
    as_of: AsOf,
    model: Annotated[Optional[str], typer.Option(
        "--model", help="Model directory or registry URI, to add members' scores.")] = None,
    min_size: Annotated[int, typer.Option("--min-size", help="Smallest group shown.")] = 3,
    limit: Annotated[int, typer.Option(help="Groups printed (all go to --out).")] = 20,
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="Also write every group to this .parquet or .json file.")] = None,
    workdir: Workdir = DEFAULT_WORKDIR,
    memory_limit: MemoryLimit = None,
) -> None:
    """Linked groups of accounts: members, what links them (by kind), members' scores."""
    from ..scoring.evidence import build_features_for_evidence
    from ..scoring.rings import find_rings, join_ring_scores

    try:
        scorer = _scorer(model) if model else None
        with _engine(data_dir, workdir, memory_limit) as engine:
            features = build_features_for_evidence(engine, as_of)
            found = find_rings(engine, as_of, min_size, build=False)
            if scorer is not None:
                batch = scorer.score_database(engine, as_of, reasons_for=False,
                                              features=features)
                found = join_ring_scores(found, batch.frame)
    except AccountRiskError as error:
        _fail(error)
    if out is not None:
        if out.suffix.lower() == ".json":
            out.write_text(json.dumps(found.to_pylist(), indent=1, default=str),
                           encoding="utf-8")
        else:
            _write(found, out)
    lines = [f"{found.num_rows} linked groups of at least {min_size} accounts"]
    for row in found.slice(0, limit).to_pylist():
        kinds = ", ".join(f"{k['kind']} x{k['count']}" for k in row["link_kinds"])
        members = ", ".join(row["members"][:8]) + (", …" if row["member_count"] > 8 else "")
        line = (f"{row['group_id']}: {row['member_count']} accounts ({members}); links: "
                f"{kinds}; {row['confirmed_count']} confirmed")
        if row.get("is_chained"):
            line += "; chained by everyday links, not a ring"
        if "max_score" in row and row["max_score"] is not None:
            line += f"; max score {row['max_score']:.3f}, {row['banded_count']} in a band"
        lines.append(line)
    sys.stdout.write("\n".join(lines) + "\n")
