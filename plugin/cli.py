"""The ``accountrisk`` command line."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ..features.errors import AccountRiskError, UsageError
from ..features.workspace import DEFAULT_WORKDIR
from ._console import console, out, print_profile, print_report, progress_bar

app = typer.Typer(
    name="accountrisk",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Text, not a Path: a Path would fold the "//" of s3:// and postgresql:// URIs.
DataDir = Annotated[str, typer.Argument(
    help="Where the contract tables are: a folder (accounts.parquet, sessions.parquet or "
         "dataset folders such as sessions/dt=.../), s3://bucket/prefix/ or "
         "postgresql://user@host:port/database[?schema=name]. See docs/sources.md.")]
Workdir = Annotated[Path, typer.Option(
    "--workdir", envvar="ACCOUNTRISK_WORKDIR",
    help="Work directory holding the embedded DuckDB database.")]
EngineChoice = Annotated[Literal["duckdb", "spark"], typer.Option(
    "--engine", help="Where the signals run: the embedded DuckDB, or Apache Spark (the same "
                     "definitions; needs the spark extra and Java).")]
Master = Annotated[Optional[str], typer.Option(
    "--master", help="Spark master URL, only with --engine spark (default: local[2], two "
                     "local cores; or spark://host:7077, yarn, k8s://...).")]
SparkConf = Annotated[Optional[list[str]], typer.Option(
    "--spark-conf", metavar="KEY=VALUE",
    help="A Spark setting, only with --engine spark; repeatable, e.g. --spark-conf "
         "spark.driver.memory=8g (local mode) or spark.executor.memory=8g (a cluster).")]
MemoryLimit = Annotated[Optional[str], typer.Option(
    "--memory-limit", help="DuckDB memory limit, e.g. 2GB; larger work spills to disk.")]
Threads = Annotated[Optional[int], typer.Option("--threads", help="DuckDB threads "
                                                                  "(default: all cores).")]
# the generator's modes (accountrisk.synthetic.MODES, which a test keeps equal to this)
GeneratorMode = Literal["classic", "realistic", "behaviour", "platform", "thin"]


def _fail(error: AccountRiskError) -> None:
    console.print(f"[red]error:[/red] {error}", highlight=False)
    raise typer.Exit(1)


def spark_settings(values: list[str] | None, engine: str) -> dict[str, str]:
    """The ``--spark-conf KEY=VALUE`` options as a dict; a malformed one, or any without
    ``--engine spark``, is a usage error."""
    settings: dict[str, str] = {}
    for value in values or []:
        key, equals, setting = value.partition("=")
        if not equals or not key.strip() or not setting.strip():
            raise typer.BadParameter(f"{value!r} is not KEY=VALUE (e.g. "
                                     "spark.driver.memory=8g)", param_hint="--spark-conf")
        settings[key.strip()] = setting.strip()
    if settings and engine != "spark":
        raise typer.BadParameter("--spark-conf needs --engine spark",
                                 param_hint="--spark-conf")
    return settings


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        out.print(f"accountrisk {version('accountrisk')}", markup=False)
        raise typer.Exit(0)


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """Rank freelancer-marketplace accounts that may front for sanctioned remote IT
    workers, with reasons a reviewer can act on."""


def check_table_file(path: Path) -> None:
    """Refuse an output file whose extension names neither Parquet nor CSV (before work)."""
    from ..features.table_files import file_format

    try:
        file_format(path)
    except UsageError as error:
        raise typer.BadParameter(str(error), param_hint="--out") from None


@app.command()
def validate(
    data_dir: DataDir,
    workdir: Workdir = DEFAULT_WORKDIR,
    max_quarantine_ratio: Annotated[float, typer.Option(
        help="Reject the folder when more than this share of a table's rows is bad.")] = 0.5,
    report: Annotated[Optional[Path], typer.Option(
        help="Also write every quarantined value to this CSV file.")] = None,
) -> None:
    """Check a contract folder against the data contract and load it.

    Lists every problem with table, column, row, account, value and fix. Exit 0 when the
    folder is usable (possibly with quarantined rows), 1 when it is not.
    """
    from ..features.workspace import ensure_loaded, open_database

    with open_database(workdir) as engine, progress_bar("validate") as update:
        result = ensure_loaded(engine, data_dir, force=True,
                               max_quarantine_ratio=max_quarantine_ratio, progress=update)
        if report is not None:
            rows = engine.con.sql("SELECT * FROM quarantine ORDER BY table_name, row_number")
            rows.to_csv(str(report))
    print_report(result)
    if report is not None:
        out.print(f"Quarantined values written to {report}", markup=False)
    raise typer.Exit(0 if result.usable else 1)


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the marketplace into.")],
    accounts: Annotated[int, typer.Option(help="Number of accounts.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same "
                                           "files.")] = 0,
    mode: Annotated[GeneratorMode, typer.Option(
        help="World to simulate: classic (the full marketplace), realistic (classic at "
             "0.3% fronted), behaviour (fronted accounts share nothing, only behavioural "
             "tells), platform (crowd-work attributes and a dense co-working graph), thin "
             "(classic exported as accounts, sessions and labels only).")] = "classic",
    fronted_share: Annotated[Optional[float], typer.Option(
        help="Share of fronted accounts (platform: banned); default: the mode's own "
             "(classic 0.01, realistic 0.003, behaviour 0.01, platform 0.22, thin 0.01).")
    ] = None,
) -> None:
    """Write a synthetic marketplace: a contract folder plus its ground truth.

    The ground truth (ground_truth.parquet: fronted accounts, rings, evasions) is not a
    contract table; the same seed always gives the same files.
    """
    from ..synthetic import generate as run

    started = time.perf_counter()
    with progress_bar("generate") as update:
        summary = run(out_dir, accounts=accounts, seed=seed, mode=mode,
                      fronted_share=fronted_share,
                      progress=lambda step, fraction: update(step, fraction))
    rows = summary.get("row_counts", summary.get("rows", {}))
    out.print(f"Wrote {out_dir} in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{k} {v:,}" for k, v in rows.items()), markup=False)


@app.command()
def features(
    data_dir: DataDir,
    as_of: Annotated[str, typer.Option("--as-of", help="ISO date or date-time, UTC; only "
                                                       "rows dated before it count.")],
    out_file: Annotated[Path, typer.Option("--out", help="File to write: .parquet or "
                                                         ".csv (by its extension).")],
    workdir: Workdir = DEFAULT_WORKDIR,
    memory_limit: MemoryLimit = None,
    threads: Threads = None,
    engine: EngineChoice = "duckdb",
    master: Master = None,
    spark_conf: SparkConf = None,
    profile: Annotated[bool, typer.Option("--profile", help="Print where the time went: "
                                                             "seconds per load step and "
                                                             "per signal stage.")] = False,
) -> None:
    """Write one row per account that exists before --as-of, one column per signal."""
    from ..features.api import export_features
    from ..features.profile import StageProfile

    if master is not None and engine != "spark":
        raise typer.BadParameter("--master needs --engine spark", param_hint="--master")
    settings = spark_settings(spark_conf, engine)
    check_table_file(out_file)
    timings = StageProfile() if profile else None
    try:
        with progress_bar("features") as update:
            accounts, signals = export_features(
                data_dir, as_of, out_file, workdir=workdir, memory_limit=memory_limit,
                threads=threads, progress=update, engine=engine, master=master,
                spark_conf=settings, profile=timings)
    except AccountRiskError as error:
        _fail(error)
    out.print(f"Wrote {accounts:,} accounts x {signals} signals to {out_file}", markup=False)
    if timings is not None:
        print_profile(timings)


@app.command()
def signals(
    markdown: Annotated[bool, typer.Option(help="Print a Markdown table (docs/signals.md).")
                        ] = False,
) -> None:
    """List every signal: name, family, description and the reason a reviewer reads."""
    from ..features.registry import registry_rows, signals_markdown

    if markdown:
        out.print(signals_markdown(), markup=False, end="")
        return
    for row in registry_rows():
        out.print(f"{row['name']:<48} {row['family']:<15} {row['description']}", markup=False)


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option("--workdir", help="Where to put everything.")
                       ] = Path("accountrisk-demo"),
    accounts: Annotated[int, typer.Option(help="Accounts to generate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 7,
) -> None:
    """The main job on embedded defaults, end to end.

    Generates a marketplace, validates it, builds its signals, trains a model, registers
    it in MLflow and promotes it, scores every account with the champion and writes the
    review queue with its case reports.
    """
    from ._demo import demo_pipeline

    try:
        demo_pipeline(workdir, accounts=accounts, seed=seed)
    except AccountRiskError as error:
        _fail(error)


def main() -> None:
    """Console entry point. Every command's own errors are reported where they happen;
    this catches the rest (e.g. a work directory another process holds), so that no
    AccountRiskError reaches the user as a traceback."""
    try:
        app()
    except AccountRiskError as error:
        console.print(f"[red]error:[/red] {error}", highlight=False)
        raise SystemExit(1) from None


# The training, scoring, review-loop and service commands live in their own modules and
# register on `app`.
from . import (  # noqa: E402,F401
    _facilitator_command,
    _review_commands,
    _score_commands,
    _serve_command,
    _train_commands,
)
