"""Batch scoring on Apache Spark: the same scores, bands and reason sentences as
``accountrisk score``, for feature rows that live in Spark.

How it runs:

* The model is read and verified **once, on the driver** (:meth:`RiskScorer.load`: a model
  directory or an MLflow ``models:/...`` URI). A missing, changed or incompatible model
  raises there, before any Spark job starts.
* The verified model travels as text (``model.txt`` and ``metadata.json``; nothing
  pickled) in one broadcast. Each Python worker rebuilds a :class:`RiskScorer` from it
  once (cached by the model's sha256) and never downloads anything.
* ``mapInArrow`` hands Arrow batches of the features to
  :meth:`RiskScorer.score_features`, whose frame is the output: per account the same
  score, band, reasons and raw score as the DuckDB path, bit for bit.

What differs from ``accountrisk score``: the reasons are the template sentences (the
feature's value and the claimed zone or country) **without the evidence tails** the DuckDB
path appends, e.g. ``"(u0001, u0002, …; 2 already confirmed)"``. Those come from
:func:`~accountrisk.scoring.evidence.collect_evidence`, which reads the contract tables of
a DuckDB database; Spark has only the feature rows. For an account's full evidence run
``accountrisk explain`` on it.

pyspark is imported only when these functions run (install ``accountrisk[spark]``).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accountrisk.features.errors import AccountRiskError, BundleError, ContractError
from accountrisk.features.pipeline import parse_as_of
from accountrisk.scoring.scorer import RiskScorer
from accountrisk.training._lightgbm import lightgbm
from accountrisk.training.bundle import CHECKSUMS_FILE, METADATA_FILE, MODEL_FILE, Bundle
from accountrisk.training.predict import CONTEXT_COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

# The output of `accountrisk score` (RiskScorer.score_features' frame), in order.
OUTPUT_SCHEMA = pa.schema([("account_id", pa.string()), ("score", pa.float64()),
                           ("band", pa.string()), ("reasons", pa.string()),
                           ("raw_score", pa.float64())])
SPARK_SCHEMA = "account_id string, score double, band string, reasons string, " \
               "raw_score double"
_CONTEXT = "__claimed__"  # prefix of the joined context columns inside the job
_WORKER_THREADS = 1  # LightGBM threads per Python worker: Spark already runs one per core


@dataclass(frozen=True)
class ModelText:
    """A verified model as text: what is broadcast to the executors."""

    digest: str
    metadata_json: str
    model_text: str | None
    version: str


def model_text(scorer: RiskScorer) -> ModelText:
    """The loaded scorer's model as text. From a model directory: the very bytes of its
    files, checked against its ``checksums.json`` (which ``RiskScorer.load`` verified).
    From the registry (downloaded to a directory that is gone by now): LightGBM's own
    serialization of the verified booster, which reproduces ``model.txt`` exactly."""
    bundle = scorer.bundle
    files = bundle.path / CHECKSUMS_FILE
    if files.is_file():
        listing = json.loads(files.read_text(encoding="utf-8"))["files"]
        texts: dict[str, str | None] = {}
        for name in (METADATA_FILE, MODEL_FILE):
            if name not in listing:
                texts[name] = None
                continue
            data = (bundle.path / name).read_bytes()
            if hashlib.sha256(data).hexdigest() != listing[name]:
                raise BundleError(f"{bundle.path / name} changed while it was being loaded; "
                                  "do not edit model directories, retrain or restore it")
            texts[name] = data.decode("utf-8")
        metadata, model = texts[METADATA_FILE] or "", texts[MODEL_FILE]
    else:
        metadata = json.dumps(bundle.metadata, sort_keys=True)
        model = bundle.booster.model_to_string() if bundle.booster is not None else None
    digest = hashlib.sha256(metadata.encode() + b"\0" + (model or "").encode()).hexdigest()
    return ModelText(digest=digest, metadata_json=metadata, model_text=model,
                     version=scorer.model_version)


def scorer_from_text(text: ModelText, *, threads: int = _WORKER_THREADS) -> RiskScorer:
    """A scorer rebuilt from :func:`model_text` (no files, no download, no pickle)."""
    booster = None
    if text.model_text is not None:
        lgb = lightgbm()

        booster = lgb.Booster(model_str=text.model_text)
    bundle = Bundle(path=Path(text.version), metadata=json.loads(text.metadata_json),
                    booster=booster)
    return RiskScorer(bundle, version=text.version, threads=threads)


_WORKER_SCORERS: dict[tuple[str, int], RiskScorer] = {}
_WORKER_LOCK = threading.Lock()


def _worker_scorer(digest: str, shipped: Any, threads: int) -> RiskScorer:
    """This Python worker's scorer for the model ``digest`` (built on first use)."""
    key = (digest, threads)
    with _WORKER_LOCK:
        if key not in _WORKER_SCORERS:
            text = shipped.value if hasattr(shipped, "value") else shipped
            _WORKER_SCORERS[key] = scorer_from_text(text, threads=threads)
        return _WORKER_SCORERS[key]


@dataclass(frozen=True)
class _Cut:
    """Rows at or above the k-th of (score descending, account_id ascending)."""

    score: float
    account_id: str

    def mask(self, frame: pa.Table) -> np.ndarray:
        score = frame.column("score").to_numpy()
        before = pc.fill_null(pc.less_equal(frame.column("account_id"), self.account_id),
                              False).to_numpy()
        return (score > self.score) | ((score == self.score) & before)


# -- the executor side ----------------------------------------------------------------------
def _contexts_of(table: pa.Table) -> tuple[pa.Table, Any]:
    """Split the joined claimed_* columns off the batch into what ``score_features`` takes
    for ``contexts``: per explained account its non-null values (as ``score_database``
    reads them from the accounts table)."""
    joined = [c for c in table.column_names if c.startswith(_CONTEXT)]
    if not joined:
        return table, None
    values = {c[len(_CONTEXT):]: table.column(c).to_pylist() for c in joined}
    ids = table.column("account_id").cast(pa.string()).to_pylist()
    table = table.drop_columns(joined)

    def contexts(explained: list[str]) -> dict[str, dict[str, Any]]:
        wanted = set(explained)
        return {a: {c: v[i] for c, v in values.items() if v[i] is not None}
                for i, a in enumerate(ids) if a in wanted}

    return table, contexts


def score_table(scorer: RiskScorer, table: pa.Table, *, as_of: datetime, explain: Any,
                cut: _Cut | None = None, contexts: Any = None,
                explain_accounts: Sequence[str] | None = None) -> pa.Table:
    """One batch's output frame. ``explain`` and ``explain_accounts`` go to
    ``score_features`` as they are; with a ``cut`` (the global top k) the rows at or above it
    (and the named accounts) are explained instead."""
    if cut is None:
        return scorer.score_features(table, as_of=as_of, explain=explain,
                                     explain_accounts=explain_accounts,
                                     contexts=contexts).frame
    frame = scorer.score_features(table, as_of=as_of, explain=False).frame
    named = pc.is_in(frame.column("account_id"),
                     value_set=pa.array(list(explain_accounts or []), pa.string()))
    rows = np.flatnonzero(cut.mask(frame) | named.to_numpy(zero_copy_only=False))
    if not len(rows):
        return frame
    chosen = table.take(pa.array(rows, pa.int64()))
    ids = frame.column("account_id").take(pa.array(rows, pa.int64())).to_pylist()
    texts = frame.column("reasons").to_pylist()
    found = scorer.score_features(chosen, as_of=as_of, explain=False, explain_accounts=ids,
                                  contexts=contexts).frame.column("reasons").to_pylist()
    for row, text in zip(rows, found):
        texts[row] = text
    return frame.set_column(frame.column_names.index("reasons"), "reasons",
                            pa.array(texts, pa.string()))


def _score_batches(batches: Iterator[pa.RecordBatch], *, digest: str, shipped: Any,
                   threads: int, as_of: datetime, explain: Any, cut: _Cut | None,
                   explain_accounts: Sequence[str] | None = None
                   ) -> Iterator[pa.RecordBatch]:
    scorer = _worker_scorer(digest, shipped, threads)
    for batch in batches:
        if not batch.num_rows:
            continue
        table, contexts = _contexts_of(pa.Table.from_batches([batch]))
        frame = score_table(scorer, table, as_of=as_of, explain=explain, cut=cut,
                            contexts=contexts, explain_accounts=explain_accounts)
        yield from frame.cast(OUTPUT_SCHEMA).to_batches()


# -- the driver side ------------------------------------------------------------------------
def _inputs(features: DataFrame, scorer: RiskScorer,
            contexts: DataFrame | None) -> DataFrame:
    """The columns the scorer reads (account_id, the model's features, claimed_* if the
    rows carry them), with ``contexts`` joined under internal names."""
    from pyspark.sql import functions as F

    have = set(features.columns)
    missing = [f for f in ["account_id", *scorer.features] if f not in have]
    if missing:
        raise ContractError(
            f"the feature rows lack {len(missing)} column(s) the model needs: "
            f"{', '.join(missing[:8])}; compute them with feature-set version "
            f"{scorer.feature_set_version}", [f"missing column {name}" for name in missing])
    keep = ["account_id", *dict.fromkeys(scorer.features)] + \
        [c for c in CONTEXT_COLUMNS if c in have]
    rows = features.select(*keep)
    if contexts is None:
        return rows
    claimed = [c for c in CONTEXT_COLUMNS if c in contexts.columns]
    if "account_id" not in contexts.columns or not claimed:
        raise AccountRiskError("contexts needs account_id and claimed_timezone and/or "
                               f"claimed_country; it has {', '.join(contexts.columns)}")
    one = contexts.select(F.col("account_id").cast("string").alias("account_id"),
                          *[F.col(c).cast("string").alias(_CONTEXT + c) for c in claimed]) \
        .dropDuplicates(["account_id"])
    return rows.join(one, on="account_id", how="left")


def _top_cut(scored: DataFrame, k: int) -> _Cut | None:
    """The k-th row of (score descending, account_id ascending); None when there are at
    most k rows (every row gets reasons)."""
    from pyspark.sql import functions as F

    found = scored.select("account_id", "score") \
        .orderBy(F.col("score").desc(), F.col("account_id").asc()) \
        .offset(k - 1).limit(1).collect()
    return _Cut(float(found[0]["score"]), str(found[0]["account_id"])) if found else None


def score_spark(features: DataFrame, model: str | Path | RiskScorer, *, as_of: str | datetime,
                reasons_for: Any = "elevated", explain_accounts: Sequence[str] | None = None,
                contexts: DataFrame | None = None,
                threads: int = _WORKER_THREADS) -> DataFrame:
    """Score Spark feature rows like ``accountrisk score``: a DataFrame with exactly its
    columns, ``account_id string, score double, band string, reasons string,
    raw_score double`` (unordered; :func:`write_scores` writes it sorted like the CLI).

    ``features``: ``account_id`` plus the model's feature columns (others are ignored).
    ``model``: a model directory or an MLflow URI, loaded and verified here on the driver
    (errors raise before any Spark job), or a scorer already loaded. ``reasons_for``: as
    ``--reasons-for``, a band name (that band and narrower ones), ``"banded"``, ``"all"``,
    ``"none"`` or an int k (the k highest scores, ties by account_id ascending, as the CLI's
    account-ordered rows); an unknown band is a :class:`UsageError` listing the bands.
    ``explain_accounts``: account ids that get reasons too. ``contexts``: optional DataFrame
    of ``account_id`` with ``claimed_timezone`` / ``claimed_country`` for the sentences
    (left-joined to the features; null values read "on the profile", as in the CLI).
    ``threads``: LightGBM threads per Python worker.

    Reasons are the template sentences without the evidence lists the DuckDB path appends
    (see the module docstring). The result is lazy, except for a top-k selection: that runs
    one Spark job here (a scoring pass and an ordered take) to find the k-th score; the
    cheap raw scores are computed again when the result is used.
    """
    moment = parse_as_of(as_of)
    scorer = model if isinstance(model, RiskScorer) else RiskScorer.load(model)
    explain = scorer.explain_selection(reasons_for)
    rows = _inputs(features, scorer, contexts)
    text = model_text(scorer)
    spark = features.sparkSession
    try:
        shipped: Any = spark.sparkContext.broadcast(text)
    except Exception:  # Spark Connect has no SparkContext: the text travels with the task
        shipped = text
    named = sorted(set(map(str, explain_accounts))) if explain_accounts is not None else None
    run = partial(_score_batches, digest=text.digest, shipped=shipped, threads=threads,
                  as_of=moment, explain_accounts=named)
    cut = None
    if isinstance(explain, int) and not isinstance(explain, bool) and explain > 0:
        # None: at most k rows, so each batch's own top k is all of it.
        cut = _top_cut(rows.mapInArrow(partial(run, explain=False, cut=None), SPARK_SCHEMA),
                       explain)
    return rows.mapInArrow(partial(run, explain=explain, cut=cut), SPARK_SCHEMA)


@dataclass(frozen=True)
class WrittenScores:
    """What :func:`write_scores` wrote: the CLI's summary line reads these."""

    path: Path
    accounts: int
    banded: int
    with_reasons: int


def _summary(path: Path, table: pa.Table) -> WrittenScores:
    def filled(name: str) -> int:
        return int(pc.sum(pc.not_equal(table.column(name), "")).as_py() or 0)

    return WrittenScores(path, table.num_rows, filled("band"), filled("reasons"))


def write_scores(scores: DataFrame, out: str | Path, *,
                 overwrite: bool = False) -> WrittenScores:
    """Write :func:`score_spark`'s result sorted by score descending, then account_id.

    ``out`` ending in ``.parquet`` or ``.csv``: one file, exactly like ``accountrisk
    score`` writes it (same columns, types and order); the rows are collected to the
    driver with ``toArrow``, so use it for outputs that fit in the driver's memory.
    ``out`` with no suffix: Spark's executors write a directory of Parquet part files
    (for outputs too big for the driver), globally sorted in part-file order; an existing
    directory is replaced only with ``overwrite``. Either way ``scores`` is computed once
    here. Returns the path and the counts the CLI reports.
    """
    from pyspark.sql import functions as F

    path = Path(out)
    suffix = path.suffix.lower()
    if suffix == "":
        scores.orderBy(F.col("score").desc(), F.col("account_id").asc()) \
            .write.mode("overwrite" if overwrite else "errorifexists").parquet(str(path))
        counts = scores.sparkSession.read.parquet(str(path)).select(
            F.count(F.lit(1)), F.count_if(F.col("band") != ""),
            F.count_if(F.col("reasons") != "")).first()
        assert counts is not None  # a global aggregate has exactly one row
        return WrittenScores(path, *(int(c or 0) for c in counts))
    if suffix not in (".parquet", ".csv"):
        raise AccountRiskError(f"{path}: the output must end in .parquet or .csv, or have "
                               "no suffix (a Spark Parquet directory)")
    table = scores.toArrow().cast(OUTPUT_SCHEMA) \
        .sort_by([("score", "descending"), ("account_id", "ascending")])
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        import pyarrow.csv as pcsv

        pcsv.write_csv(table, path)
    return _summary(path, table)
