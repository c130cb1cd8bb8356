"""``/v1/accounts/{account_id}``, its case report, and ``/v1/queue``: read from the
contract data the service was started with (503 without it). Each runs in the thread pool;
the data store serializes them on its one DuckDB connection."""

from __future__ import annotations

from typing import Annotated, Any

import pyarrow as pa
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from accountrisk.plugin._report_style import CSP
from accountrisk.scoring.models import AccountScore

from .data import as_of_moment
from .models import ErrorBody, QueueResponse
from .state import Service

router = APIRouter()
MAX_QUEUE_LIMIT = 10_000
AsOf = Annotated[str | None, Query(description="ISO date or date-time, UTC (default: the "
                                               "service's --as-of)")]
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in (
        (401, "no API key, or a wrong one"),
        (404, "the account has no row as of that time"),
        (422, "a parameter is wrong (as_of, band, limit)"),
        (503, "the service was started without contract data (--data)"))}


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


@router.get("/v1/accounts/{account_id}", response_model=AccountScore, responses=_ERRORS)
def account(request: Request, account_id: str, as_of: AsOf = None) -> Response:
    """One account's score, reasons and evidence, as ``accountrisk explain`` shows them."""
    service = _service(request)
    store = service.require_data()
    moment = as_of_moment(as_of, service.config.as_of)
    result = store.account(service.scorer, account_id, moment)
    service.metrics.count_bands(pa.array([result.band], pa.string()))
    return Response(result.model_dump_json(), media_type="application/json")


@router.get("/v1/accounts/{account_id}/report", response_class=HTMLResponse,
            responses=_ERRORS)
def report(request: Request, account_id: str, as_of: AsOf = None) -> HTMLResponse:
    """The account's case report page, as ``accountrisk explain --html`` writes it."""
    service = _service(request)
    store = service.require_data()
    moment = as_of_moment(as_of, service.config.as_of)
    page = store.report(service.scorer, account_id, moment)
    return HTMLResponse(page, headers={"Content-Security-Policy": CSP,
                                       "X-Content-Type-Options": "nosniff"})


@router.get("/v1/queue", response_model=QueueResponse, responses=_ERRORS)
def queue(request: Request, as_of: AsOf = None,
          band: Annotated[str | None, Query(description="accounts in this band or a narrower "
                                                        "one (default: elevated)")] = None,
          limit: Annotated[int, Query(ge=1, le=MAX_QUEUE_LIMIT,
                                      description="accounts returned, highest score "
                                                  "first")] = 100) -> Response:
    """The review queue: accounts in ``band`` or a narrower one, highest score first, each
    with reasons and evidence."""
    service = _service(request)
    store = service.require_data()
    moment = as_of_moment(as_of, service.config.as_of)
    scorer = service.scorer
    chosen, total, scores = store.queue(scorer, moment, band, limit)
    answer = QueueResponse(model_version=scorer.model_version, as_of=moment, band=chosen,
                           total_count=total, scores=scores)
    return Response(answer.model_dump_json(), media_type="application/json")
