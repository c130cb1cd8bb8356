"""``POST /v1/decisions``: a reviewer's decision on an account, recorded in the work
directory's decision store (as ``accountrisk review`` does), with the score the service
shows for the account at that moment. The next ``train`` reads it as a label."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from .data import as_of_moment
from .models import ErrorBody
from .state import Service

router = APIRouter()
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in (
        (401, "no API key, or a wrong one"),
        (404, "the account is not in the loaded data"),
        (422, "an unknown decision, an empty reviewer or a bad time"),
        (503, "the service was started without contract data (--data)"))}


class DecisionRequest(BaseModel):
    """One decision, as a reviewer takes it."""

    account_id: str = Field(min_length=1)
    decision: Literal["confirmed_fronting", "cleared", "escalated", "needs_info"]
    reviewer: str = Field(min_length=1)
    note: str | None = None
    decided_at: datetime | None = Field(None, description="UTC; default: now")


@router.post("/v1/decisions", status_code=201, responses=_ERRORS)
def decide(request: Request, body: DecisionRequest) -> Response:
    """Record a decision; answers the stored row (its id, the model version and score
    shown with it)."""
    from accountrisk.training.review.shown import of_score
    from accountrisk.training.review.store import record_decision

    service: Service = request.app.state.service
    store = service.require_data()
    shown = of_score(store.account(service.scorer, body.account_id,
                                   as_of_moment(None, service.config.as_of)))
    made = record_decision(body.account_id, body.decision, body.reviewer, note=body.note,
                           decided_at=body.decided_at, workdir=service.config.workdir,
                           shown=shown, source="http")
    answer = {**made.as_json(), "decision_id": made.decision_id, "source": made.source}
    return Response(json.dumps(answer, default=str), status_code=201,
                    media_type="application/json")
