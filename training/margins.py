"""How much validation must show before it overrides a default.

Validation reads only the fronts that were caught, and the red flags are how many of them
were: a setting, a size or the rules that lean on the flags look better there than on the
ground truth. So whatever replaces a default must win by a margin of paired-bootstrap
standard errors of PR-AUC (:mod:`.judge`), and the rules must also gain a floor.
"""

from __future__ import annotations

MANY_POSITIVES = 1000  # confirmed accounts enough for the larger default size
SETTING_MARGIN_SE = 2.0  # standard errors a strategy or the prior must win by
SIZE_MARGIN_SE = 2.0  # ... a tree shape or count, trained on fewer than MANY_POSITIVES
MANY_POSITIVES_SIZE_MARGIN_SE = 1.0  # ... on at least MANY_POSITIVES confirmed accounts
# Standard errors the rules must win by to replace the model, as a setting must (classic
# 7633: rules 0.940 against 0.928 on validation, one and a half errors; 0.807 against 0.936
# on the ground truth).
RULES_MARGIN_SE = SETTING_MARGIN_SE
# PR-AUC the rules must also gain to replace the model: the paired standard error between
# two near-equal scores shrinks with their gap (realistic 7631: 0.8634 against 0.8629).
RULES_MIN_GAIN = 0.005


def rules_beat_model(rules_pr_auc: float, model_pr_auc: float, gain_se: float) -> bool:
    """Whether the rules rank the validation decisions better than the model by more than
    :data:`RULES_MARGIN_SE` standard errors of the gain and by at least
    :data:`RULES_MIN_GAIN`."""
    gain = rules_pr_auc - model_pr_auc
    return bool(gain > RULES_MARGIN_SE * gain_se and gain >= RULES_MIN_GAIN)


def size_margin_se(positives: int) -> float:
    """Standard errors another tree shape or count must win by, trained on ``positives``
    confirmed accounts. Under :data:`MANY_POSITIVES` two, as a setting: validation reads
    tens of caught fronts there, and a size that beat the default by between one and two
    errors ranked the ground truth worse in all five generated marketplaces where it
    happened (classic 7633: 25 trees, 0.936 against the default's 0.987). With thousands
    of confirmed accounts one: the larger sizes that won so paid on both platforms where it
    happened (crowd 3, platform 7634; docs/training-log.md)."""
    return SIZE_MARGIN_SE if positives < MANY_POSITIVES else MANY_POSITIVES_SIZE_MARGIN_SE
