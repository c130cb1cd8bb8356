"""Training: point-in-time training sets, the LightGBM model, the red-flag rule score,
calibration, review bands, the model directory, and MLflow runs and registry.

The entry points are :func:`accountrisk.training.api.train` and
:func:`accountrisk.training.promotion.promote` (also importable from here). Importing this
package is cheap: LightGBM, MLflow, SHAP and matplotlib load only when used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["train", "promote"]


def __getattr__(name: str) -> Any:
    if name == "train":
        from .api import train

        return train
    if name == "promote":
        from .promotion import promote

        return promote
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
