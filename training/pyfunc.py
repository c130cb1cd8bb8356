"""The registered MLflow model, as code (models-from-code): nothing is pickled.

MLflow logs this file itself as the python model (``python_model=<this file>``) and the
model directory as an artifact; loading runs this file and reads the directory through
:func:`~accountrisk.training.bundle.read_bundle` (checksums and feature set verified).
It needs ``accountrisk`` installed where the model is loaded or served.

Input: a pandas DataFrame of feature rows (``account_id`` plus the feature columns, as
``accountrisk features`` writes them; ``claimed_country``/``claimed_timezone`` optional,
for the reason texts). Output: one row per input row with ``account_id``, ``score``
(calibrated probability, or the rule score for a rules bundle), ``raw_score``, ``band``,
``reasons`` (top reasons joined by "; ") and ``top_features``.
"""

from __future__ import annotations

import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel


class AccountRiskModel(PythonModel):
    """Scores feature rows with the model directory logged beside this code."""

    def load_context(self, context) -> None:  # noqa: ANN001 (MLflow's context type)
        from accountrisk.training.bundle import read_bundle

        self.bundle = read_bundle(context.artifacts["bundle"])

    def predict(self, context, model_input: pd.DataFrame,  # noqa: ANN001
                params=None) -> pd.DataFrame:  # noqa: ANN001
        from accountrisk.training.predict import score_rows

        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame(model_input)
        return pd.DataFrame(score_rows(self.bundle, model_input))


set_model(AccountRiskModel())
