"""The FastAPI application: routes, API key, metrics, error answers, reload watch.

:func:`create_app` loads and verifies the model (and the data, when configured) before
returning, so a service that cannot answer fails at start-up with the library's message,
not on its first request. ``/healthz`` and ``/readyz`` (and the OpenAPI page) answer
without a key; everything else needs ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from accountrisk.features.errors import AccountRiskError

from . import routes_data, routes_decisions, routes_score
from .auth import KeyCheck
from .data import DataStore
from .errors import LOG, error_body, error_status, validation_message
from .metrics import CONTENT_TYPE, MetricsMiddleware, ServiceMetrics
from .models import Health, Readiness
from .reloader import ModelHolder
from .state import Service, ServiceConfig

_BEARER = HTTPBearer(auto_error=False, description="the service's API key "
                                                   "(ACCOUNTRISK_API_KEY or --api-key-file)")


async def _require_key(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_BEARER)]) -> None:
    # async: a plain function would be run on a worker thread, a hop that cost more than
    # scoring one account
    request.app.state.service.keys.check(credentials)


def build_service(config: ServiceConfig) -> Service:
    """Load and verify the model, open the data (when configured): the parts of a service.
    Raises the library's errors (:class:`ModelLoadError`, :class:`ContractError`)."""
    metrics = ServiceMetrics()
    holder = ModelHolder(
        config.model, registry=config.registry, threads=config.threads,
        interval_seconds=config.reload_seconds,
        on_swap=lambda s: metrics.set_model(s.model_version, s.kind, s.feature_set_version),
        on_reload=lambda outcome: _note_reload(metrics, outcome))
    holder.load()
    data = None
    if config.data is not None:
        data = DataStore(config.data, config.workdir, memory_limit=config.memory_limit)
        data.open()
        if config.as_of is not None:
            data.warm(config.as_of)
    return Service(config=config, holder=holder, metrics=metrics,
                   keys=KeyCheck(config.api_key), data=data)


def _note_reload(metrics: ServiceMetrics, outcome: str) -> None:
    metrics.reloads.labels(outcome).inc()
    metrics.reload_failed.set(1 if outcome == "failed" else 0)


def create_app(config: ServiceConfig, *, service: Service | None = None) -> FastAPI:
    """The application for ``config`` (or around an already built ``service``)."""
    service = service or build_service(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.holder.start()
        try:
            yield
        finally:
            service.close()

    app = FastAPI(title="accountrisk", version=_version(), lifespan=lifespan,
                  summary="Scores, reasons and evidence for freelancer-marketplace accounts "
                          "that may front for sanctioned remote IT workers.")
    app.state.service = service
    open_routes = APIRouter()
    open_routes.add_api_route("/healthz", _healthz, methods=["GET"], response_model=Health)
    open_routes.add_api_route("/readyz", _readyz, methods=["GET"], response_model=Readiness,
                              responses={503: {"model": Readiness}})
    app.include_router(open_routes)
    keyed = [Depends(_require_key)]
    app.include_router(routes_score.router, dependencies=keyed)
    app.include_router(routes_data.router, dependencies=keyed)
    app.include_router(routes_decisions.router, dependencies=keyed)
    app.add_api_route("/metrics", _metrics, methods=["GET"], dependencies=keyed,
                      response_class=Response, summary="Prometheus metrics")
    _add_error_answers(app)
    app.add_middleware(MetricsMiddleware, metrics=service.metrics)
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("accountrisk")
    except PackageNotFoundError:
        return "unknown"


def _healthz() -> Health:
    """The process answers (no key needed)."""
    return Health()


def _readyz(request: Request) -> JSONResponse:
    """200 while a loaded, verified model serves (a failed reload shows in ``reload``;
    the previous model keeps serving); 503 when none is loaded. No key needed."""
    service: Service = request.app.state.service
    holder = service.holder
    body = Readiness(ready=holder.loaded, model_uri=holder.uri,
                     model_version=holder.scorer.model_version if holder.loaded else None,
                     loaded_at=holder.loaded_at, reload=holder.state(),
                     data=service.data.source if service.data else None)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if holder.loaded
                        else 503)


def _metrics(request: Request) -> Response:
    return Response(request.app.state.service.metrics.render(), media_type=CONTENT_TYPE)


def _add_error_answers(app: FastAPI) -> None:
    """Every error as ``{"error", "fix"}`` JSON; tracebacks go to the server log only."""

    async def library_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, AccountRiskError)
        status, fix = error_status(error)
        if status >= 500:
            LOG.warning("%s %s answered %d: %s", request.method, request.url.path, status,
                        error)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(error_body(str(error), fix), status_code=status, headers=headers)

    async def invalid(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return JSONResponse(error_body(validation_message(error.errors()),
                                       "correct the parameter named; see /docs"),
                            status_code=422)

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        text = {404: f"no such endpoint: {request.url.path}",
                405: f"{request.method} is not allowed on {request.url.path}"}.get(
            error.status_code, str(error.detail))
        return JSONResponse(error_body(text, "see /docs for the endpoints"),
                            status_code=error.status_code, headers=error.headers)

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        # Starlette raises it again after this answer, so the server logs the traceback.
        LOG.error("%s %s failed: %s", request.method, request.url.path, type(error).__name__)
        return JSONResponse(error_body("internal error: the request could not be answered",
                                       "see the server log; report it if it persists"),
                            status_code=500)

    handlers: dict[Any, Any] = {AccountRiskError: library_error,
                                RequestValidationError: invalid, HTTPException: http_error,
                                Exception: unexpected}
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)
