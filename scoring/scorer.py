"""The scorer a marketplace backend embeds: load a verified model, score accounts, explain.

``RiskScorer.load`` reads a local model directory (checksums and feature-set version
verified by :func:`~accountrisk.training.bundle.read_bundle`) or a registry URI
``models:/accountrisk@champion`` (MLflow is imported only then). Scores are calibrated
probabilities; reasons come from LightGBM's exact TreeSHAP (``pred_contrib``) and are
computed only for the accounts asked for. Plain scoring from a directory imports neither
MLflow nor SHAP.

Thread safety: the booster is only read (``predict`` with ``num_threads`` passed), and
every use of a DuckDB connection goes through one lock per scorer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accountrisk.features.errors import BundleError, ModelLoadError, UsageError
from accountrisk.features.pipeline import parse_as_of
from accountrisk.scoring._feature_rows import FewRows, category_codes, check_feature_rows
from accountrisk.scoring._records import feature_rows, to_arrow
from accountrisk.scoring._registry import load_registered
from accountrisk.scoring.batch import ScoreBatch, reason_text, reasons_text, with_evidence
from accountrisk.scoring.models import AccountScore, Reason
from accountrisk.training.bundle import Bundle, Kind, read_bundle
from accountrisk.training.calibration import apply_calibration
from accountrisk.training.matrix import column, feature_matrix
from accountrisk.training.model import margin, model_contributions
from accountrisk.training.predict import CONTEXT_COLUMNS, render_reason

TOP_REASONS = 3
# A feature that lowers the log-odds by at least this much is shown as "pointing the other
# way" (about a 40% drop in the odds).
LOWERS_THRESHOLD = 0.5
MAX_LOWERS = 2
# Below this many rows one thread predicts faster: waking OpenMP workers costs more than the
# trees, and under load its tail latency reaches tens of milliseconds.
SMALL_BATCH = 2_000
Explain = bool | int | str | None


class RiskScorer:
    """Scores accounts with one verified model. Create with :meth:`load`."""

    def __init__(self, bundle: Bundle, *, version: str | None = None, threads: int = 2,
                 top: int = TOP_REASONS) -> None:
        self.bundle = bundle
        self.model_version = version or bundle.path.name
        self.threads = threads
        self.top = top
        self._lock = threading.RLock()
        meta = bundle.metadata
        self.features: list[str] = bundle.features
        self.categories = meta.get("categories") or {}
        self.templates: dict[str, str] = meta.get("reasons", {})
        self._bands = sorted((b for b in meta.get("bands", [])
                              if b.get("raw_threshold") is not None), key=lambda b: b["share"])
        self._expected: float | None = None
        self._prior = bundle.prior
        self._codes = category_codes(self.categories)  # category -> code

    # -- loading -------------------------------------------------------------------------
    @classmethod
    def load(cls, uri_or_path: str | Path, *, threads: int = 2,
             registry: str | None = None) -> RiskScorer:
        """A scorer from a model directory or an MLflow URI (``models:/name@alias`` or
        ``models:/name/version``) in ``registry`` (default: ``MLFLOW_TRACKING_URI``, else
        ``sqlite:///mlflow.db`` in the working directory); the host application's MLflow
        tracking and registry URIs are left as they were. Raises :class:`ModelLoadError`
        (its subclass :class:`BundleError` for a model directory's problems) when the model
        is missing, corrupt or incompatible."""
        text = str(uri_or_path)
        if text.startswith("models:/"):
            bundle, version = load_registered(text, registry)
            return cls(bundle, version=version, threads=threads)
        path = Path(text)
        if not path.exists():
            raise ModelLoadError(f"no model at {path}: give a model directory written by "
                                 "`accountrisk train` or a registry URI models:/...")
        try:
            bundle = read_bundle(path)
        except BundleError:
            raise
        except Exception as error:  # an unreadable model.txt, bad JSON
            raise ModelLoadError(f"{path} could not be read as a model directory: "
                                 f"{error}") from error
        return cls(bundle, version=path.resolve().name, threads=threads)

    # -- properties ----------------------------------------------------------------------
    @property
    def feature_set_version(self) -> str:
        return str(self.bundle.metadata.get("feature_set_version"))

    @property
    def kind(self) -> Kind:
        return self.bundle.kind

    @property
    def expected_log_odds(self) -> float | None:
        """The model's expected raw score (the start of the SHAP waterfall)."""
        if self._expected is None and self.kind == "model":
            zero = np.full((1, len(self.features)), np.nan)
            self._expected = float(self._contributions(zero)[0, -1])
        return self._expected

    # -- core ----------------------------------------------------------------------------
    def _threads(self, rows: int) -> int:
        return 1 if rows < SMALL_BATCH else self.threads

    def _contributions(self, x: np.ndarray) -> np.ndarray:
        return model_contributions(self.bundle.booster, self._prior, x, self.features,
                                   self._threads(len(x)))

    def _probability(self, raw: np.ndarray) -> np.ndarray:
        return apply_calibration(self.bundle.metadata.get("calibration"), raw)

    def _band_codes(self, raw: np.ndarray) -> np.ndarray:
        """Per row the index of its narrowest band in ``self._bands``; len(bands) = none."""
        code = np.full(len(raw), len(self._bands), dtype=np.int64)
        for k in range(len(self._bands) - 1, -1, -1):  # widest first; narrower overwrite
            code[raw >= self._bands[k]["raw_threshold"]] = k
        return code

    def _matrix(self, data: pa.Table, few: FewRows | None = None) -> np.ndarray:
        """The model's matrix (as :func:`feature_matrix`), with category codes looked up in
        Arrow instead of per value in Python (a few rows: made at once by :func:`few_rows`)."""
        if few is not None:
            return few.matrix
        kinds = dict(zip(data.schema.names, data.schema.types))
        if any(f not in kinds or pa.types.is_string(kinds[f]) != (f in self.categories)
               for f in self.features):
            return feature_matrix(data, self.features, self.categories)  # raises or handles
        out = np.empty((data.num_rows, len(self.features)), dtype=np.float64)
        for j, name in enumerate(self.features):
            values = data.column(name)
            if name in self.categories:
                values = pc.index_in(values, value_set=pa.array(self.categories[name],
                                                                pa.string()))
            out[:, j] = values.cast(pa.float64()).to_numpy()
        return out

    def _raw(self, data: pa.Table, x: np.ndarray | None) -> np.ndarray:
        if self.kind == "rules":
            from accountrisk.training.predict import raw_scores
            return raw_scores(self.bundle, data)
        assert x is not None  # a "model" scorer always builds its matrix
        return margin(self.bundle.booster, self._prior, x, self.features,
                      self._threads(len(x)))

    @property
    def band_names(self) -> list[str]:
        """The model's review bands, narrowest (riskiest) first."""
        return [b["name"] for b in self._bands]

    def explain_selection(self, explain: Explain) -> bool | int | str:
        """``explain`` checked and normalized: True/"all", False/None/"none", "banded", a band
        name (that band and narrower ones) or k >= 0 (the k highest scores; a string of
        digits counts). Anything else is a :class:`UsageError` that lists the bands."""
        if isinstance(explain, (bool, np.bool_)) or explain is None:
            return bool(explain)
        if isinstance(explain, (int, np.integer)):
            if explain < 0:
                raise UsageError(f"reasons for the top {explain}: k must be 0 or more")
            return int(explain)
        if isinstance(explain, str):
            if explain.isdigit():
                return int(explain)
            if explain in ("all", "none", "banded", *self.band_names):
                return explain
            raise UsageError(
                f"unknown band {explain!r}: give a band name "
                f"({', '.join(self.band_names) or 'this model has none'}), 'banded', 'all', "
                "'none' or a number k (the k highest scores); to explain given accounts, "
                "pass their ids as explain_accounts")
        raise UsageError(f"explain={explain!r} is not a band, a count or True/False; pass "
                         "account ids as explain_accounts")

    def _select(self, explain: Explain, explain_accounts: Iterable[str] | None, ids: Any,
                score: np.ndarray, code: np.ndarray) -> np.ndarray:
        """Row positions to explain (``ids()`` gives the account ids, built on demand)."""
        n = len(score)
        chosen = self.explain_selection(explain)
        if chosen is True or chosen == "all":
            rows = np.arange(n)
        elif chosen is False or chosen == "none":
            rows = np.arange(0)
        elif chosen == "banded":
            rows = np.flatnonzero(code < len(self._bands))
        elif isinstance(chosen, str):
            rows = np.flatnonzero(code <= self.band_names.index(chosen))
        else:
            rows = np.sort(np.argsort(-score, kind="stable")[:min(int(chosen), n)])
        if explain_accounts is None:
            return rows
        wanted = set(map(str, explain_accounts))
        named = np.array([i for i, a in enumerate(ids()) if a in wanted], dtype=np.int64)
        return np.union1d(rows, named).astype(np.int64)

    def score_features(self, table: Any, *, as_of: str | datetime, explain: Explain = True,
                       explain_accounts: Iterable[str] | None = None,
                       contexts: Any = None) -> ScoreBatch:
        """Score precomputed feature rows (Arrow, Polars, pandas, or records: a list of
        mappings, one per account, as JSON rows arrive; ``account_id`` plus the model's
        features in any order; NULL (None) for an unknown value, never NaN or infinity:
        such rows, or a missing ``account_id``, are a :class:`ContractError` naming the
        columns and rows). Which rows get reasons: ``explain`` True (all),
        False, a band name such as "elevated" (rows in that band or a narrower one),
        "banded" (any band) or an int k (the k highest scores); plus the accounts named in
        ``explain_accounts``. An unknown band is a :class:`UsageError` listing the bands.
        ``contexts``: optional claimed_timezone / claimed_country per account for the
        sentences (a mapping, or a function of the explained account ids returning one)."""
        moment = parse_as_of(as_of)
        data, few = feature_rows(table, self.features, self.categories,
                                 self._codes if self.kind == "model" else None)
        check_feature_rows(data, self.features, few)
        n = data.num_rows
        id_column = data.column("account_id").cast(pa.string())
        cache: list[list[str]] = []

        def ids() -> list[str]:
            if not cache:
                cache.append(id_column.to_pylist())
            return cache[0]

        x = self._matrix(data, few) if self.kind == "model" else None
        contrib = None
        if (explain is True or explain == "all") and x is not None and n:
            contrib = self._contributions(x)
            raw = contrib.sum(axis=1)
        else:
            raw = self._raw(data, x)
        score = self._probability(raw)
        code = self._band_codes(raw)
        labels = [b["name"] for b in self._bands] + [""]
        band = pc.take(pa.array(labels, pa.string()), pa.array(code))
        chosen = self._select(explain, explain_accounts, ids, score, code)
        explained: dict[str, AccountScore] = {}
        reasons = pa.repeat(pa.scalar("", pa.string()), n)
        if len(chosen):
            every = ids()
            if callable(contexts):
                contexts = contexts([every[i] for i in chosen])
            explained = self._explain(data, x, chosen, every, raw, score,
                                      [labels[c] for c in code[chosen]], moment, contrib,
                                      contexts)
            texts = [""] * n
            for i in chosen:
                texts[i] = reasons_text(explained[every[i]].reasons)
            reasons = pa.array(texts, pa.string())
        frame = pa.table({"account_id": id_column, "score": pa.array(score, pa.float64()),
                          "band": band, "reasons": reasons,
                          "raw_score": pa.array(raw, pa.float64())})
        positions: dict[str, int] = {}

        def make(account_id: str) -> AccountScore:
            if not positions:
                positions.update((a, i) for i, a in enumerate(ids()))
            i = positions[account_id]
            return self._result(account_id, score[i], labels[code[i]], raw[i], moment, [])

        return ScoreBatch(frame=frame, explained=explained, _maker=make)

    def _result(self, account_id: str, score: float, band: str, raw: float, moment: datetime,
                reasons: list[Reason]) -> AccountScore:
        return AccountScore(account_id=account_id, score=float(min(max(score, 0.0), 1.0)),
                            band=str(band), reasons=reasons, model_version=self.model_version,
                            model_kind=self.kind, feature_set_version=self.feature_set_version,
                            as_of=moment, raw_log_odds=float(raw) if self.kind == "model"
                            else None)

    def _explain(self, data: pa.Table, x: np.ndarray | None, chosen: np.ndarray,
                 ids: list[str], raw: np.ndarray, score: np.ndarray, band: list[str],
                 moment: datetime, contrib: np.ndarray | None,
                 contexts: Any) -> dict[str, AccountScore]:
        names = set(data.column_names)
        present = [c for c in CONTEXT_COLUMNS if c in names]
        sub = data if len(chosen) == data.num_rows else data.take(pa.array(chosen, pa.int64()))
        ctx_cols = {c: sub.column(c).to_pylist() for c in present}
        originals = {f: column(sub, f) for f in self.categories}
        out: dict[str, AccountScore] = {}
        if self.kind == "rules":
            from accountrisk.training.predict import top_reasons

            found = top_reasons(self.bundle, sub, self.top)
            for k, i in enumerate(chosen):
                reasons = [Reason(feature=r["feature"], value=r["value"],
                                  contribution_log_odds=float(r["contribution"]),
                                  contribution_probability=0.0, sentence=r["text"],
                                  direction="raises") for r in found[k]]
                out[ids[i]] = self._result(ids[i], score[i], band[k], raw[i], moment, reasons)
            return out
        assert x is not None  # a "model" scorer always builds its matrix
        rows_c = contrib[chosen] if contrib is not None else self._contributions(x[chosen])
        expected = rows_c[0, -1]
        base_p = float(self._probability(np.array([expected]))[0])
        for k, i in enumerate(chosen):
            c = rows_c[k, :-1]
            order = np.argsort(-c, kind="stable")
            picks = [j for j in order[:self.top] if c[j] > 0]
            lows = [j for j in order[::-1][:MAX_LOWERS] if c[j] <= -LOWERS_THRESHOLD]
            context = {name: values[k] for name, values in ctx_cols.items()}
            context.update((contexts or {}).get(ids[i], {}))
            reasons = []
            for j in picks + lows:
                name = self.features[j]
                value: Any = originals[name][k] if name in originals else float(x[i, j])
                if isinstance(value, float) and value != value:
                    value = None
                delta = float(self._probability(np.array([expected + c[j]]))[0]) - base_p
                template = self.templates.get(name) or f"{name} is {{value}}"
                reasons.append(Reason(
                    feature=name, value=value, contribution_log_odds=float(c[j]),
                    contribution_probability=delta,
                    sentence=render_reason(template, value, context, name),
                    direction="raises" if c[j] > 0 else "lowers"))
            out[ids[i]] = self._result(ids[i], score[i], band[k], raw[i], moment, reasons)
        return out

    # -- from the contract tables --------------------------------------------------------
    def score_database(self, engine: Any, as_of: str | datetime,
                       account_ids: Iterable[str] | None = None, *,
                       reasons_for: Explain = "elevated",
                       explain_accounts: Iterable[str] | None = None, evidence: bool = True,
                       features: pa.Table | None = None) -> ScoreBatch:
        """Compute features on a loaded DuckDB engine (keeping the helper tables evidence
        reads), score them (``account_ids``: only those), and attach evidence to the accounts
        that get reasons: ``reasons_for`` (as ``explain`` of :meth:`score_features`) and
        ``explain_accounts``. ``features`` skips the feature build when the rows are already
        computed (on this connection, for this as-of)."""
        from accountrisk.scoring.evidence import build_features_for_evidence, collect_evidence

        moment = parse_as_of(as_of)
        with self._lock:
            table = to_arrow(features if features is not None else
                              build_features_for_evidence(engine, moment))
            if account_ids is not None:
                wanted = pa.array(list(dict.fromkeys(map(str, account_ids))), pa.string())
                table = table.filter(pc.is_in(table.column("account_id"), value_set=wanted))
            batch = self.score_features(table, as_of=moment, explain=reasons_for,
                                        explain_accounts=explain_accounts,
                                        contexts=lambda ids: _claimed(engine, ids))
            ids = list(batch.explained)
            if ids and evidence:
                names = sorted({r.feature for s in batch.explained.values() for r in s.reasons})
                found = collect_evidence(engine, moment, ids, names)
                batch = with_evidence(batch, found)
        return batch

    def score_folder(self, data_dir: str | Path, as_of: str | datetime,
                     account_ids: Iterable[str] | None = None, *, workdir: str | Path,
                     reasons_for: Explain = "elevated",
                     explain_accounts: Iterable[str] | None = None, evidence: bool = True,
                     memory_limit: str | None = None) -> ScoreBatch:
        """Validate and load a contract source (a folder, ``s3://`` prefix or
        ``postgresql://`` URI) into ``workdir``'s database, then :meth:`score_database`."""
        from accountrisk.features.engines import open_engine

        self.explain_selection(reasons_for)  # a wrong band fails before the slow part
        with self._lock, open_engine("duckdb", data_dir=data_dir, workdir=workdir,
                                     memory_limit=memory_limit) as engine:
            return self.score_database(engine, as_of, account_ids, reasons_for=reasons_for,
                                       explain_accounts=explain_accounts, evidence=evidence)


def _claimed(engine: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    """claimed_timezone/claimed_country of the accounts, for the reason sentences."""
    from accountrisk.scoring.evidence_tools import columns, connection, rows

    con = connection(engine)
    wanted = [c for c in CONTEXT_COLUMNS if c in columns(con, "accounts")]
    if not wanted:
        return {}
    found = rows(con, f"SELECT account_id, {', '.join(wanted)} FROM accounts "
                      "WHERE account_id IN (SELECT unnest($ids::VARCHAR[]))", {"ids": ids})
    return {r["account_id"]: {c: r[c] for c in wanted if r[c] is not None} for r in found}


__all__ = ["ModelLoadError", "RiskScorer", "ScoreBatch", "reason_text", "reasons_text"]
