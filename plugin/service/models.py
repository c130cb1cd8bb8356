"""The service's request and response bodies. Scores are the plugin's own
:class:`~accountrisk.scoring.models.AccountScore`, so the OpenAPI schema is the one a Python
caller of :class:`~accountrisk.scoring.scorer.RiskScorer` reads."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from accountrisk.scoring.models import AccountScore

ARROW_STREAM = "application/vnd.apache.arrow.stream"
# A feature value as JSON carries it: a number, a flag, text (a categorical feature, or the
# claimed_country / claimed_timezone context) or null (unknown).
FeatureValue = float | bool | str | None


class ScoreRequest(BaseModel):
    """Feature rows to score: ``account_id`` plus the model's features, one object a row."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "as_of": "2026-10-01",
        "rows": [{"account_id": "u0000123", "payout_shared_destination_count": 2.0,
                  "claimed_timezone": "America/Chicago"}]}]})

    as_of: str = Field(description="ISO date or date-time, UTC: the time the features were "
                                   "computed for (it is stamped on every score)")
    rows: list[dict[str, FeatureValue]] = Field(
        description="account_id plus every feature of the model (GET /v1/model lists them); "
                    "null for an unknown value, never NaN; claimed_country and "
                    "claimed_timezone are optional and read by the reason sentences")
    explain: bool | int | str = Field(
        True, description="which rows get reasons: true (all), false, a band name (that band "
                          "and narrower ones), 'banded', or k (the k highest scores)")


class ScoreResponse(BaseModel):
    """One score per row, in the order of the rows."""

    model_version: str
    scores: list[AccountScore]


class QueueResponse(BaseModel):
    """The review queue: accounts in ``band`` or a narrower one, highest score first."""

    model_version: str
    as_of: datetime
    band: str
    total_count: int = Field(description="accounts in the band or a narrower one")
    scores: list[AccountScore] = Field(description="the first `limit` of them, with reasons "
                                                   "and evidence")


class ModelInfo(BaseModel):
    """The model the service scores with."""

    model_uri: str
    model_version: str
    model_kind: str
    feature_set_version: str
    features: list[str]
    categories: dict[str, list[str]]
    bands: list[str] = Field(description="review bands, narrowest (riskiest) first")


class ErrorBody(BaseModel):
    """What went wrong and how to fix it; never a traceback."""

    error: str
    fix: str


class Health(BaseModel):
    """The process answers."""

    status: str = "ok"


class ReloadState(BaseModel):
    """The champion-alias watch: on for a ``models:/name@alias`` URI."""

    watching: bool
    interval_seconds: float | None = None
    last_check_at: datetime | None = None
    failed: bool = False
    error: str | None = Field(None, description="the last failed check or reload, while the "
                                                "previous model keeps serving")
    failed_at: datetime | None = None


class Readiness(BaseModel):
    """A loaded, verified model serves; a failed reload is reported here."""

    ready: bool
    model_uri: str
    model_version: str | None
    loaded_at: datetime | None
    reload: ReloadState
    data: str | None = Field(None, description="the contract data behind /v1/accounts and "
                                               "/v1/queue, when configured")
