"""Small containers used across the generator: column bundles and the time window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

DAY_SEC = 86_400


class Cols:
    """A bundle of equal-length numpy columns with attribute access (a struct of arrays)."""

    def __init__(self, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            setattr(self, name, np.asarray(values))

    if TYPE_CHECKING:
        # Columns are attributes set by name at run time: to a type checker every attribute
        # this class does not define is a column (declarations only, no run-time hooks).
        def __getattr__(self, name: str) -> np.ndarray: ...

        def __setattr__(self, name: str, value: np.ndarray) -> None: ...

    def names(self) -> list[str]:
        """Column names in insertion order."""
        return list(vars(self))

    def __len__(self) -> int:
        cols = vars(self)
        return len(next(iter(cols.values()))) if cols else 0

    def take(self, index: np.ndarray | slice) -> Cols:
        """Rows ``index`` (integer positions, a boolean mask or a slice) of every column."""
        return Cols(**{k: v[index] for k, v in vars(self).items()})

    @staticmethod
    def concat(parts: list[Cols]) -> Cols:
        """Rows of ``parts`` one after the other; every part must have the same columns."""
        names = parts[0].names()
        return Cols(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in names})


@dataclass(frozen=True)
class Window:
    """The generation time window, in int64 seconds since the Unix epoch (UTC)."""

    end_sec: int
    first_created_sec: int
    last_created_sec: int
    label_start_sec: int

    @staticmethod
    def ending(end: datetime) -> Window:
        """Window for ``end`` (a naive datetime is UTC): sign-ups 900 to 14 days before it."""
        if end.tzinfo is None:
            end = end.replace(tzinfo=UTC)
        end_sec = int(end.timestamp())
        return Window(
            end_sec=end_sec,
            first_created_sec=end_sec - 900 * DAY_SEC,
            last_created_sec=end_sec - 14 * DAY_SEC,
            label_start_sec=end_sec - 540 * DAY_SEC,
        )

    @property
    def table_start_sec(self) -> int:
        """Start of the time-zone tables (a margin before the first sign-up)."""
        return self.first_created_sec - 30 * DAY_SEC


def iso_utc(sec: int) -> str:
    """ISO text of a naive-UTC instant given in epoch seconds."""
    return datetime.fromtimestamp(sec, tz=UTC).replace(tzinfo=None).isoformat()
