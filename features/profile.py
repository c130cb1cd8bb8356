"""Where a feature pass spends its time: wall seconds per load step and per stage.

A :class:`StageProfile` is a progress callback (``step, done, total``) that charges the
time from each call to the next to the step that call named. Both the load
(``load: validate <table>``) and the pipeline's stages report through it, so one table
shows the whole pass.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class StageProfile:
    """Wall seconds per step of a feature pass; call :meth:`stop` when the pass ends."""

    seconds: dict[str, float] = field(default_factory=dict)
    _current: str | None = None
    _since: float = 0.0

    def __call__(self, step: str, done: float = 0.0, total: float = 1.0) -> None:
        self._charge(step)

    def _charge(self, step: str) -> None:
        now = time.perf_counter()
        if self._current is not None:
            self.seconds[self._current] = self.seconds.get(self._current, 0.0) + now - self._since
        self._current, self._since = step, now

    def stop(self) -> None:
        """Charge the time since the last step to it; the profile is then complete."""
        if self._current is not None:
            self._charge("")
            self._current = None
            self.seconds.pop("", None)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def rows(self) -> list[tuple[str, float, float]]:
        """(step, seconds, share of the total), slowest first."""
        total = self.total_seconds or 1.0
        return [(step, s, s / total)
                for step, s in sorted(self.seconds.items(), key=lambda kv: -kv[1])]

    def markdown(self, limit: int | None = None) -> str:
        """The profile as a Markdown table (for benchmarks and notes)."""
        lines = ["| step | seconds | share |", "|---|---|---|"]
        shown = self.rows()[:limit] if limit else self.rows()
        lines += [f"| {step} | {s:.2f} | {share:.1%} |" for step, s, share in shown]
        lines.append(f"| total | {self.total_seconds:.2f} | 100.0% |")
        return "\n".join(lines)
