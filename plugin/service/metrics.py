"""Prometheus metrics of one service: requests, latency, scores by band, the model.

Each application has its own registry (two services in one process, as in tests, do not
share counters). Requests are counted by route template (``/v1/accounts/{account_id}``),
never by the raw path, so account ids do not become label values.

Several worker processes (``serve --workers N``) share prometheus_client's multiprocess
mode: ``PROMETHEUS_MULTIPROC_DIR`` is set before the workers start, each writes its values
there, and ``/metrics``, whichever worker answers it, sums the counters and histograms of
all of them; the gauges read the largest worker's value (the model is 1 on every worker
serving it; a failed reload is 1 while any worker's latest reload failed).
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
LATENCY_BUCKETS_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                           5.0, 10.0, 30.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


class ServiceMetrics:
    """The service's counters, histogram and gauges in a registry of their own."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter("accountrisk_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("accountrisk_http_request_duration_seconds",
                                 "Time from request to the end of the answer",
                                 ["method", "route"], buckets=LATENCY_BUCKETS_SECONDS,
                                 registry=self.registry)
        self.scores = Counter("accountrisk_scores", "Accounts scored, by review band "
                                                    "('none': below every band)",
                              ["band"], registry=self.registry)
        self.model = Gauge("accountrisk_model_info", "The model serving now (value 1; 0 "
                                                     "for a model replaced since)",
                           ["model_version", "model_kind", "feature_set_version"],
                           registry=self.registry, multiprocess_mode="max")
        self._model_labels: tuple[str, str, str] | None = None
        self.reloads = Counter("accountrisk_model_reloads", "Champion reloads by outcome",
                               ["outcome"], registry=self.registry)
        self.reload_failed = Gauge("accountrisk_model_reload_failed",
                                   "1 while the latest reload or alias check failed",
                                   registry=self.registry, multiprocess_mode="max")

    def set_model(self, version: str, kind: str, feature_set_version: str) -> None:
        """Label the serving model (the previous one's series goes to 0, then is removed;
        the 0 is what other workers' /metrics read from the shared values)."""
        if self._model_labels is not None:
            self.model.labels(*self._model_labels).set(0)
        self.model.clear()
        self._model_labels = (version, kind, feature_set_version)
        self.model.labels(*self._model_labels).set(1)

    def count_bands(self, bands: pa.ChunkedArray | pa.Array) -> None:
        """Count scored accounts by their band column."""
        if len(bands) == 0:
            return
        for entry in pc.value_counts(bands).to_pylist():
            self.scores.labels(entry["values"] or "none").inc(entry["counts"])

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric (of every worker, when several
        share ``PROMETHEUS_MULTIPROC_DIR``)."""
        from prometheus_client import CollectorRegistry, generate_latest, multiprocess

        if not os.environ.get(MULTIPROCESS_DIR):
            return generate_latest(self.registry)
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)
        return generate_latest(combined)


class MetricsMiddleware:
    """Counts and times every HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method, path, str(status[0])).inc()
            self.metrics.latency.labels(method, path).observe(time.perf_counter() - started)
