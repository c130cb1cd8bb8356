"""The registered MLflow model, as code (models-from-code): nothing is pickled.

MLflow logs this file itself as the python model (``python_model=<this file>``) and the
model directory as an artifact; loading runs this file and reads the directory through
:func:`~accountrisk.training.bundle.read_bundle` (checksums and feature set verified).
Scoring goes through :class:`~accountrisk.scoring.scorer.RiskScorer`, the scorer the plugin
and ``accountrisk serve`` use, so ``mlflow models serve`` gives the same scores, bands and
reasons. It needs ``accountrisk`` installed where the model is loaded or served.

Input: a pandas DataFrame of feature rows (``account_id`` plus the feature columns, as
``accountrisk features`` writes them; ``claimed_country``/``claimed_timezone`` optional,
for the reason texts); the parameter ``as_of`` (default: now) is stamped on the reasons.
Output: one row per input row with ``account_id``, ``score`` (calibrated probability, or
the rule score for a rules bundle), ``raw_score``, ``band``, ``reasons`` (the reasons as
``RiskScorer`` writes them, joined by "; "), ``top_features`` (their features, joined by
",") and ``reasons_json`` (the :class:`~accountrisk.scoring.models.Reason` list as JSON).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel

OUTPUT_COLUMNS = ("account_id", "score", "raw_score", "band", "reasons", "top_features",
                  "reasons_json")


class AccountRiskModel(PythonModel):
    """Scores feature rows with the model directory logged beside this code."""

    def load_context(self, context) -> None:  # noqa: ANN001 (MLflow's context type)
        from accountrisk.scoring.scorer import RiskScorer
        from accountrisk.training.bundle import read_bundle

        self.scorer = RiskScorer(read_bundle(context.artifacts["bundle"]))

    @property
    def bundle(self) -> Any:
        """The verified model directory (:class:`~accountrisk.training.bundle.Bundle`)."""
        return self.scorer.bundle

    def predict(self, context, model_input: pd.DataFrame,  # noqa: ANN001
                params: dict[str, Any] | None = None) -> pd.DataFrame:
        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame(model_input)
        as_of = (params or {}).get("as_of") or datetime.now(UTC).replace(tzinfo=None)
        batch = self.scorer.score_features(model_input, as_of=as_of, explain=True)
        frame = batch.frame
        results = batch.scores
        return pd.DataFrame({
            "account_id": frame.column("account_id").to_pylist(),
            "score": frame.column("score").to_numpy(),
            "raw_score": frame.column("raw_score").to_numpy(),
            "band": frame.column("band").to_pylist(),
            "reasons": frame.column("reasons").to_pylist(),
            "top_features": [",".join(_ordered(r.reasons)) for r in results],
            "reasons_json": [json.dumps([reason.model_dump(mode="json")
                                         for reason in r.reasons]) for r in results]})


def _ordered(reasons: list[Any]) -> list[str]:
    """Features of the reasons in the order of the ``reasons`` text (raising ones first)."""
    return [r.feature for r in reasons if r.direction == "raises"] + \
        [r.feature for r in reasons if r.direction != "raises"]


set_model(AccountRiskModel())
