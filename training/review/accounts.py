"""Which accounts the loaded work directory has: decisions on others are refused."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import duckdb

from ...features.workspace import DATABASE_NAME
from .shown import shown_for
from .store import DecisionError

Known = set[str] | Callable[[list[str]], set[str]]


def unknown_accounts(account_ids: Iterable[str], known: Known) -> list[str]:
    """The ids of ``account_ids`` that ``known`` (a set, or a lookup) does not have."""
    ids = list(dict.fromkeys(account_ids))
    found = known(ids) if callable(known) else known
    return [a for a in ids if a not in found]


def loaded_accounts(workdir: str | Path, data_dir: str | Path | None = None) -> Known:
    """A lookup of the accounts the work directory holds: loading ``data_dir`` first when
    given, else reading whatever folder is loaded (read-only, beside other readers)."""
    if data_dir is not None:
        return lambda ids: _from_folder(workdir, data_dir, ids)
    path = Path(workdir) / DATABASE_NAME
    if not path.exists():
        raise DecisionError(f"the work directory {workdir} has no loaded folder to check "
                            "account ids against; give --data DATA (or --workdir)")
    return lambda ids: _from_database(path, ids, workdir)


def _query(con: duckdb.DuckDBPyConnection, ids: list[str]) -> set[str]:
    rows = con.execute("SELECT account_id FROM accounts WHERE list_contains($ids, account_id)",
                       {"ids": ids}).fetchall()
    return {r[0] for r in rows}


def _from_database(path: Path, ids: list[str], workdir: str | Path) -> set[str]:
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        # A writer (a reload) holds the features database: accounts a queue showed are
        # known all the same, so deciding on queued cases is never blocked.
        shown = set(shown_for(workdir, ids))
        if shown >= set(ids):
            return shown
        raise DecisionError(f"the work directory database {path} cannot be read now "
                            f"({error}); retry when the command holding it is done, or give "
                            "--data DATA") from None
    try:
        return _query(con, ids)
    except duckdb.CatalogException:
        raise DecisionError(f"{path} holds no loaded folder; give --data DATA") from None
    finally:
        con.close()


def _from_folder(workdir: str | Path, data_dir: str | Path, ids: list[str]) -> set[str]:
    from ...features.engines import open_engine

    with open_engine("duckdb", data_dir=data_dir, workdir=workdir) as engine:
        return _query(engine.con, ids)  # type: ignore[attr-defined]  # a DuckDB engine
