"""What a running service holds: its settings, model, data, metrics and key check."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from accountrisk.features.workspace import DEFAULT_WORKDIR

from .auth import KeyCheck
from .data import DataStore
from .errors import NoData
from .metrics import ServiceMetrics
from .reloader import ModelHolder

DEFAULT_RELOAD_SECONDS = 30.0


@dataclass
class ServiceConfig:
    """How to start a service. ``api_key`` None serves without authentication."""

    model: str
    api_key: str | None
    registry: str | None = None
    data: str | None = None
    workdir: Path = field(default_factory=lambda: DEFAULT_WORKDIR)
    as_of: datetime | None = None  # the default as-of of /v1/accounts and /v1/queue
    reload_seconds: float = DEFAULT_RELOAD_SECONDS
    threads: int = 2
    memory_limit: str | None = None


@dataclass
class Service:
    """The parts of a running service, as the routes reach them (``app.state.service``)."""

    config: ServiceConfig
    holder: ModelHolder
    metrics: ServiceMetrics
    keys: KeyCheck
    data: DataStore | None = None

    @property
    def scorer(self) -> Any:
        """The scorer serving now."""
        return self.holder.scorer

    def require_data(self) -> DataStore:
        """The data store, or a :class:`NoData` (503) saying how to configure one."""
        if self.data is None:
            raise NoData("this service was started without contract data, so it cannot "
                         "look up accounts or build the review queue",
                         "restart it with --data SOURCE (and --workdir DIR); POST /v1/score "
                         "scores feature rows without data")
        return self.data

    def close(self) -> None:
        """Stop the reload watch and release the work directory."""
        self.holder.stop()
        if self.data is not None:
            self.data.close()
