"""Retraining as a routine, safe to run from cron.

:func:`retrain` trains a challenger as of T, compares it with the champion in shadow (both
score the decisions taken since the champion was trained, and today's population), lets
the existing gate (:func:`~.promotion.promote`) decide, writes the one-page comparison to
an MLflow run and the model card into the new version's description.

- A lock file ``retrain.lock`` in the work directory, holding the PID, keeps a second run
  out while one runs (a lock whose process is gone is taken over).
- ``retrain-runs.json`` in the work directory remembers each T done: a second run for the
  same T does nothing and says so.
- Exit codes (``EXIT_*``): 0 promoted (or the first model, with no champion before),
  3 champion kept, 4 another run holds the lock, 5 already done for this T, 1 error.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..features.engines import open_engine
from ..features.errors import UsageError
from ..features.pipeline import parse_as_of
from ..features.workspace import DEFAULT_WORKDIR
from .review.store import utc_now

EXIT_PROMOTED, EXIT_ERROR, EXIT_KEPT, EXIT_LOCKED, EXIT_ALREADY_DONE = 0, 1, 3, 4, 5
LOCK_FILE = "retrain.lock"
STATE_FILE = "retrain-runs.json"
Say = Callable[[str], None]


class RetrainLocked(UsageError):
    """Another retrain holds the work directory's lock."""


@dataclass
class RetrainResult:
    """What a run did: ``outcome`` is promoted, kept or already_done."""

    outcome: str
    exit_code: int
    message: str
    version: str | None = None
    champion: str | None = None
    run_id: str | None = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def retrain_lock(workdir: str | Path, say: Say | None = None) -> Iterator[Path]:
    """Hold ``retrain.lock`` (with this PID) for the block; :class:`RetrainLocked` names
    the holder when another live process has it."""
    path = Path(workdir) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            text = path.read_text(encoding="utf-8").strip() if path.exists() else ""
            pid = int(text) if text.isdigit() else 0
            if pid and _alive(pid):
                raise RetrainLocked(f"another retrain (PID {pid}) is running in {workdir} "
                                    f"(lock {path}); wait for it, or remove the file if "
                                    "that process is not a retrain") from None
            if say:
                say(f"taking over a stale lock {path} (PID {pid or 'unknown'} is gone)")
            path.unlink(missing_ok=True)
    else:
        raise RetrainLocked(f"could not take the lock {path}; retry")
    os.write(handle, str(os.getpid()).encode())
    os.close(handle)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _state(workdir: str | Path) -> dict[str, dict]:
    path = Path(workdir) / STATE_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _remember(workdir: str | Path, key: str, entry: dict) -> None:
    state = _state(workdir)
    state[key] = entry
    path = Path(workdir) / STATE_FILE
    part = path.with_name(f".{path.name}.{os.getpid()}")
    part.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(part, path)


def retrain(data_dir: str | Path, as_of: str | datetime, *,
            workdir: str | Path = DEFAULT_WORKDIR, seed: int = 0, snapshot_days: int = 30,
            min_gain: float = 0.0, say: Say | None = None) -> RetrainResult:
    """One retraining round as of ``as_of`` (see the module doc)."""
    say = say or (lambda message: None)
    moment = parse_as_of(as_of)
    key = moment.isoformat()
    with retrain_lock(workdir, say):
        done = _state(workdir).get(key)
        if done is not None:
            return RetrainResult("already_done", EXIT_ALREADY_DONE,
                                 f"retrain as of {key} already ran at {done['ran_at']} "
                                 f"({done['outcome']}: {done['message']}); nothing to do",
                                 done.get("version"), done.get("champion"))
        result = _round(data_dir, moment, workdir=workdir, seed=seed,
                        snapshot_days=snapshot_days, min_gain=min_gain, say=say)
        _remember(workdir, key, {"ran_at": utc_now().isoformat(), "outcome": result.outcome,
                                 "message": result.message, "version": result.version,
                                 "champion": result.champion, "run_id": result.run_id})
        return result


def _round(data_dir: str | Path, moment: datetime, *, workdir: str | Path, seed: int,
           snapshot_days: int, min_gain: float, say: Say) -> RetrainResult:
    from . import tracking
    from .api import train
    from .bundle import read_bundle
    from .model_card import model_card
    from .promotion import promote
    from .shadow import render_comparison, shadow_compare

    before = tracking.aliases()[tracking.CHAMPION]
    trained = train(data_dir, moment, workdir=workdir, seed=seed,
                    snapshot_days=snapshot_days, plots=False, say=say)
    version = str(trained.version)
    tracking.describe_version(version, model_card(trained.metadata, version))
    if before is None:
        message = f"v{version} is the first model: champion (there was none)"
        return RetrainResult("promoted", EXIT_PROMOTED, message, version, version)
    gate = promote(data_dir, moment, workdir=workdir, min_gain=min_gain,
                   snapshot_days=snapshot_days, say=say)
    champion = tracking.load_version(before)
    with open_engine("duckdb", data_dir=data_dir, workdir=workdir) as engine:
        shadow = shadow_compare(champion, read_bundle(trained.model_dir), engine, moment,
                                snapshot_days=snapshot_days, seed=seed)
    verdict = ("promoted: " if gate.promoted else "champion kept: ") + gate.reason
    page = render_comparison(shadow, as_of=moment, champion=before, challenger=version,
                             verdict=verdict)
    metrics = {f"shadow_{who}_{k}": v for who, values in shadow.metrics.items()
               for k, v in values.items() if v == v}
    metrics["band_changes"] = float(shadow.band_change_count)
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "comparison.md"
        file.write_text(page, encoding="utf-8")
        run_id = tracking.log_retrain(
            run_name=f"retrain {moment:%Y-%m-%d}", metrics=metrics,
            params={"as_of": moment.isoformat(), "champion": before, "challenger": version,
                    "shadow_since": shadow.since.isoformat(), "min_gain": min_gain},
            tags={"retrain": "promoted" if gate.promoted else "kept"}, files=[file])
    if gate.promoted:
        return RetrainResult("promoted", EXIT_PROMOTED, gate.reason, version, version, run_id)
    return RetrainResult("kept", EXIT_KEPT, gate.reason, version, before, run_id)
