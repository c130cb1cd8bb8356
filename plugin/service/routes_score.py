"""``POST /v1/score`` (feature rows in JSON or Arrow, scores out in either) and
``GET /v1/model``. Scoring is :meth:`RiskScorer.score_features` itself (large batches off
the event loop); the answer holds one result per row, in the order of the rows."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from .arrow_io import check_unique_ids, read_stream, write_stream
from .data import as_of_moment
from .errors import BadRequest, ServiceError, validation_message
from .models import ARROW_STREAM, ErrorBody, ModelInfo, ScoreRequest, ScoreResponse
from .state import Service

router = APIRouter()
JSON = "application/json"
# Up to this many rows scoring takes about a millisecond: it runs on the event loop, as a
# hop to the thread pool (and the GIL handed back and forth) would cost about as much.
INLINE_ROWS = 64
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in (
        (401, "no API key, or a wrong one"),
        (415, "a body that is neither JSON nor an Arrow IPC stream"),
        (422, "rows or parameters rejected; the message names the column and rows"),
        (503, "no model could be loaded"))}


class UnsupportedBody(ServiceError):
    """A request body of a media type the endpoint does not read."""

    status = 415


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _explain_flag(text: str | None) -> bool | str:
    """The ``explain`` query parameter of an Arrow request (true/false, or as JSON's)."""
    if text is None:
        return True
    lowered = text.strip().lower()
    return {"true": True, "false": False}.get(lowered, lowered)


def _parse_json(body: bytes) -> ScoreRequest:
    try:
        return ScoreRequest.model_validate_json(body)
    except ValidationError as error:
        raise BadRequest(validation_message(error.errors()),
                         'send {"as_of": "2026-10-01", "rows": [{"account_id": ..., '
                         '"<feature>": <number or null>, ...}]}') from None


def _score(service: Service, scorer: Any, rows: pa.Table | list[dict[str, Any]], as_of: str,
           explain: Any, arrow_out: bool) -> Response:
    moment = as_of_moment(as_of, None)
    check_unique_ids(rows)
    batch = scorer.score_features(rows, as_of=moment, explain=explain)
    service.metrics.count_bands(batch.frame.column("band"))
    if arrow_out:
        content = write_stream(batch.frame, {
            "model_version": scorer.model_version, "model_kind": scorer.kind,
            "feature_set_version": scorer.feature_set_version,
            "as_of": moment.isoformat()})
        return Response(content, media_type=ARROW_STREAM)
    answer = ScoreResponse(model_version=scorer.model_version, scores=batch.scores)
    return Response(answer.model_dump_json(), media_type=JSON)


@router.post(
    "/v1/score", response_model=ScoreResponse, responses={
        200: {"content": {ARROW_STREAM: {"schema": {"type": "string", "format": "binary"}}},
              "description": "JSON: one AccountScore per row, in order. With "
                             f"Accept: {ARROW_STREAM}: an Arrow stream of account_id, score, "
                             "band, reasons (text), raw_score; model_version, "
                             "feature_set_version and as_of in its schema metadata."},
        **_ERRORS},
    openapi_extra={"requestBody": {"required": True, "content": {
        JSON: {"schema": ScoreRequest.model_json_schema()},
        ARROW_STREAM: {"schema": {"type": "string", "format": "binary",
                                  "description": "an Arrow IPC stream of account_id plus the "
                                                 "model's features; as_of and explain are "
                                                 "query parameters then"}}}}})
async def score(request: Request) -> Response:
    """Score feature rows: the same results as ``RiskScorer.score_features``."""
    service = _service(request)
    scorer = service.scorer  # read once: a reload during the request does not split it
    body = await request.body()
    media = request.headers.get("content-type", JSON).split(";")[0].strip().lower()
    arrow_out = ARROW_STREAM in request.headers.get("accept", "")
    if media == ARROW_STREAM:
        rows: pa.Table | list[dict[str, Any]] = read_stream(body)
        as_of = request.query_params.get("as_of", "")
        explain: Any = _explain_flag(request.query_params.get("explain"))
    elif media in (JSON, ""):
        parsed = _parse_json(body)
        if not parsed.rows:
            return Response(ScoreResponse(model_version=scorer.model_version,
                                          scores=[]).model_dump_json(), media_type=JSON)
        rows = parsed.rows  # records: the scorer checks and converts them
        as_of, explain = parsed.as_of, parsed.explain
    else:
        raise UnsupportedBody(f"the request body is {media}",
                              f"send {JSON} or {ARROW_STREAM} (with the Content-Type header)")
    if len(rows) <= INLINE_ROWS:
        return _score(service, scorer, rows, as_of, explain, arrow_out)
    return await run_in_threadpool(_score, service, scorer, rows, as_of, explain, arrow_out)


@router.get("/v1/model", response_model=ModelInfo, responses=_ERRORS)
def model(request: Request) -> ModelInfo:
    """The serving model: version, features (the columns /v1/score reads) and bands."""
    service = _service(request)
    scorer = service.scorer
    return ModelInfo(model_uri=service.config.model, model_version=scorer.model_version,
                     model_kind=scorer.kind, feature_set_version=scorer.feature_set_version,
                     features=scorer.features, categories=scorer.categories,
                     bands=scorer.band_names)
