"""The typed results a backend and a reviewer receive: scores, reasons and evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LinkedAccount(BaseModel):
    """Another account involved in a reason, and what it shares with this one."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    shared: list[str] = Field(default_factory=list,
                              description="shortened tokens or item ids shared, e.g. pay_3f9a…")
    link_kind: str = Field(description="payout, ip, device, portfolio_image, messaged, ...")
    is_confirmed_fraud: bool = Field(False, description="confirmed fraudulent before as-of")
    is_cleared: bool = Field(False, description="cleared by review before as-of (its latest "
                                                "decision)")


class MatchedItem(BaseModel):
    """A portfolio item of this account that matches another account's item."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    other_account_id: str
    other_item_id: str
    match: Literal["link", "image", "text", "photo"]
    this_is_newer: bool | None = None
    detail: str = ""  # e.g. "pHash 3 bits apart", "Jaccard 0.82"
    title: str | None = None  # the items' titles, as the marketplace shows them
    other_title: str | None = None


class SharedToken(BaseModel):
    """A shortened token (payout destination, IP address, device) and who else used it."""

    model_config = ConfigDict(frozen=True)

    token: str = Field(description="shortened, e.g. pay_3f9a…; never the whole token")
    kind: str = Field(description="payout, ip or device")
    account_count: int = Field(0, description="other accounts that used it before as-of")
    confirmed_count: int = Field(0, description="of those, confirmed fraudulent before as-of")
    detail: str = ""  # e.g. "crypto, destination KP", "residential IP, 14 sessions"


class Evidence(BaseModel):
    """What a reviewer can check behind a reason."""

    model_config = ConfigDict(frozen=True)

    accounts: list[LinkedAccount] = Field(default_factory=list)
    items: list[MatchedItem] = Field(default_factory=list)
    # Activity count per hour of day (0..23) in the claimed zone, for working-hour reasons.
    claimed_hour_histogram: list[int] | None = None
    claimed_timezone: str | None = None
    notes: list[str] = Field(default_factory=list)
    tokens: list[SharedToken] = Field(default_factory=list)
    # Named counts behind a reason, e.g. sessions per remote-desktop tool or IP type.
    counts: dict[str, int] = Field(default_factory=dict)


class Reason(BaseModel):
    """One feature's part in a score, in a reviewer's words, with its evidence."""

    model_config = ConfigDict(frozen=True)

    feature: str = Field(description="feature name = SHAP column = reason key")
    value: float | str | None
    contribution_log_odds: float
    contribution_probability: float = Field(
        description="change of the calibrated probability from this feature alone, "
                    "against the model's expected score")
    sentence: str
    direction: Literal["raises", "lowers"]
    evidence: Evidence = Field(default_factory=Evidence)


class AccountScore(BaseModel):
    """The score of one account as of a time."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    score: float = Field(ge=0.0, le=1.0, description="calibrated probability of fronting")
    band: str
    reasons: list[Reason] = Field(default_factory=list)
    model_version: str
    model_kind: Literal["model", "rules"] = "model"
    feature_set_version: str
    as_of: datetime
    # The model's raw margin (log-odds) before calibration, when known: the end of the
    # SHAP waterfall (expected value + every feature's contribution).
    raw_log_odds: float | None = None
