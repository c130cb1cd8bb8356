"""What the queue showed: each account's latest score, band, model and reasons, kept in
the work directory so that a decision records what the reviewer saw and the queue can tell
whether anything changed since."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ...scoring.models import AccountScore

SHOWN_FILE = "shown_scores.parquet"
_SCHEMA = pa.schema([("account_id", pa.string()), ("score", pa.float64()),
                     ("band", pa.string()), ("model_version", pa.string()),
                     ("reason_features", pa.list_(pa.string())),
                     ("as_of", pa.timestamp("us"))])


@dataclass(frozen=True)
class Shown:
    """A score as a reviewer saw it."""

    account_id: str
    score: float
    band: str
    model_version: str
    reason_features: tuple[str, ...]
    as_of: datetime


def of_score(s: AccountScore) -> Shown:
    """A :class:`Shown` from an :class:`~accountrisk.scoring.models.AccountScore`."""
    return Shown(account_id=s.account_id, score=float(s.score), band=s.band,
                 model_version=s.model_version,
                 reason_features=tuple(r.feature for r in s.reasons if r.direction == "raises"),
                 as_of=s.as_of)


def remember_shown(workdir: str | Path, shown: Sequence[Shown]) -> Path:
    """Keep ``shown`` as these accounts' latest shown scores (others are kept)."""
    path = Path(workdir) / SHOWN_FILE
    new = pa.Table.from_pylist([{"account_id": s.account_id, "score": s.score,
                                 "band": s.band, "model_version": s.model_version,
                                 "reason_features": list(s.reason_features),
                                 "as_of": s.as_of} for s in shown], schema=_SCHEMA)
    if path.exists():
        old = pq.read_table(path).cast(_SCHEMA)
        keep = pc.invert(pc.is_in(old.column("account_id"), value_set=new.column("account_id")))
        new = pa.concat_tables([old.filter(keep), new])
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}")
    pq.write_table(new, part)
    os.replace(part, path)  # readers never see half a file
    return path


def shown_for(workdir: str | Path, account_ids: Iterable[str]) -> dict[str, Shown]:
    """The latest shown score of each of ``account_ids`` that the queue showed."""
    path = Path(workdir) / SHOWN_FILE
    if not path.exists():
        return {}
    table = pq.read_table(path)
    ids = pa.array(sorted(set(account_ids)), pa.string())
    rows = table.filter(pc.is_in(table.column("account_id"), value_set=ids)).to_pylist()
    return {r["account_id"]: Shown(r["account_id"], r["score"], r["band"],
                                   r["model_version"], tuple(r["reason_features"] or ()),
                                   r["as_of"]) for r in rows}
