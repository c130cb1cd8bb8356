"""Parquet contract sources: a local folder or an object-storage prefix.

Each contract table is either one file ``<table>.parquet`` or a dataset folder ``<table>/``
of Parquet files, possibly in Hive-style partitions (``sessions/dt=2026-10-01/part-0.parquet``).
Both for the same table is refused. Partition columns that are contract columns are read
with the contract's type; others are ignored like any extra column. Rows of a dataset are
numbered across its files in path order.
"""

from __future__ import annotations

import hashlib
import posixpath
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from .. import contract
from ..errors import UsageError
from ..validate import Problem, ValidationReport
from .base import Fingerprint, FoundTable, numbered
from .s3 import object_etag, s3_filesystem
from .uri import SourceURI


class ParquetSource:
    """Contract tables as Parquet files and datasets under one folder of a filesystem."""

    def __init__(self, uri: SourceURI, filesystem: pafs.FileSystem | None = None) -> None:
        self.uri = uri
        if uri.scheme == "s3":
            self.fs: pafs.FileSystem = filesystem or s3_filesystem()
            self.root = posixpath.join(uri.bucket, uri.prefix) if uri.prefix else uri.bucket
        else:
            self.fs = filesystem or pafs.LocalFileSystem()
            self.root = str(Path(uri.path or ".").absolute())

    def _where(self, relative: str) -> str:
        """How messages name a file or folder of this source."""
        if self.uri.scheme == "s3":
            return f"s3://{self.root}/{relative}"
        return relative

    def exists(self) -> bool:
        """Whether the folder (or, on S3, any object under the prefix) exists."""
        try:
            info = self.fs.get_file_info(self.root)
        except OSError as error:  # unreachable endpoint, refused credentials
            raise UsageError(f"cannot read {self.uri.shown}: "
                             f"{(str(error).splitlines() or ['?'])[0][:300]} (the endpoint and "
                             "credentials come from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, "
                             "AWS_SECRET_ACCESS_KEY, AWS_REGION)") from None
        return info.type == pafs.FileType.Directory

    def tables(self, report: ValidationReport) -> dict[str, FoundTable] | None:
        if not self.exists():
            what = "prefix" if self.uri.scheme == "s3" else "folder"
            report.add(Problem("reject", "accounts", None, "no_folder",
                               f"data {what} {self.uri.shown!r} does not exist",
                               "pass the folder holding accounts.parquet and the other tables"))
            return None
        entries = {posixpath.basename(i.path): i for i in
                   self.fs.get_file_info(pafs.FileSelector(self.root, recursive=False))}
        found: dict[str, FoundTable] = {}
        for t in contract.TABLES:
            given = [entries[n] for n in (t.file_name, t.name) if n in entries
                     and entries[n].type in (pafs.FileType.File, pafs.FileType.Directory)]
            if len(given) == 2:
                report.add(Problem(
                    "reject", t.name, None, "ambiguous_table",
                    f"both {self._where(t.file_name)} and the dataset folder "
                    f"{self._where(t.name + '/')} are given for this table",
                    f"keep one of them: the file {t.file_name} or the folder {t.name}/"))
                continue
            if not given:
                continue
            if given[0].type == pafs.FileType.File:
                table = self._single_file(t, report)
            else:  # a folder of files, named <table>/ (or <table>.parquet/ as Spark writes)
                table = self._dataset(t, posixpath.basename(given[0].path), report)
            if table is not None:
                found[t.name] = table
        known = {t.file_name for t in contract.TABLES}
        for name in sorted(n for n, i in entries.items()
                           if n.endswith(".parquet") and n not in known
                           and i.type == pafs.FileType.File):
            report.add(Problem("note", name.removesuffix(".parquet"), None, "extra_file",
                               f"{name} is not a contract table and is ignored",
                               "nothing to do, or rename it if it was meant as a contract "
                               "table"))
        return found

    def _single_file(self, t: contract.Table, report: ValidationReport) -> FoundTable | None:
        path = posixpath.join(self.root, t.file_name)
        try:
            schema = pq.read_schema(path, filesystem=self.fs)
        except Exception as exc:  # pyarrow raises several types for unreadable files
            report.add(Problem("reject", t.name, None, "unreadable",
                               f"{self._where(t.file_name)} is not a readable Parquet file "
                               f"({exc})", f"write {t.file_name} as Parquet"))
            return None
        local = Path(path) if self.uri.is_local else None

        def read() -> pa.RecordBatchReader:
            return numbered(ds.dataset(path, filesystem=self.fs, format="parquet")
                            .scanner().to_reader())

        return FoundTable(t.name, schema, t.file_name, read,
                          local_file=local, files=(path,))

    def dataset_files(self, folder: str) -> list[str]:
        """The Parquet files of a dataset folder, in path order (Spark's ``_SUCCESS`` and
        hidden files left out)."""
        infos = self.fs.get_file_info(pafs.FileSelector(folder, recursive=True))
        return sorted(i.path for i in infos if i.type == pafs.FileType.File
                      and i.path.endswith(".parquet")
                      and not any(part.startswith(("_", "."))
                                  for part in posixpath.relpath(i.path, folder).split("/")))

    def _dataset(self, t: contract.Table, name: str, report: ValidationReport
                 ) -> FoundTable | None:
        folder = posixpath.join(self.root, name)
        label = f"{name}/"
        files = self.dataset_files(folder)
        if not files:
            report.add(Problem("reject", t.name, None, "unreadable",
                               f"the dataset folder {self._where(label)} holds no Parquet file",
                               f"write the table's files under {t.name}/, or remove the "
                               "empty folder"))
            return None
        keys = _partition_keys(files, folder)
        partitioning = ds.partitioning(pa.schema(
            [pa.field(k, t.column_by_name[k].arrow_type if k in t.column_by_name
                      else pa.string()) for k in keys]), flavor="hive") if keys else None
        try:
            dataset = ds.dataset(files, filesystem=self.fs, format="parquet",
                                 partitioning=partitioning, partition_base_dir=folder)
        except Exception as exc:  # an unreadable footer or partition value
            report.add(Problem("reject", t.name, None, "unreadable",
                               f"the dataset {self._where(label)} is not readable Parquet "
                               f"({str(exc).splitlines()[0][:200]})",
                               f"write the files under {t.name}/ as Parquet"))
            return None
        ignored = [k for k in keys if k not in t.column_by_name]
        for key in ignored:
            report.add(Problem("note", t.name, key, "extra_column",
                               "partition column is not in the contract and is ignored",
                               "nothing to do"))
        columns = [n for n in dataset.schema.names if n not in ignored]
        schema = pa.schema([dataset.schema.field(n) for n in columns])

        def read() -> pa.RecordBatchReader:
            return numbered(dataset.scanner(columns=columns).to_reader())

        return FoundTable(t.name, schema, label, read,
                          files=tuple(files), base_dir=folder)

    def fingerprint(self) -> Fingerprint:
        """Local: every Parquet file's name, size and modification time; S3: every
        object's key, size and ETag."""
        digest = hashlib.sha256()
        if self.uri.scheme == "s3":
            digest.update(f"s3://{self.root}\n".encode())
        if not self.exists():
            return Fingerprint(digest.hexdigest())
        top = self.fs.get_file_info(pafs.FileSelector(self.root, recursive=False))
        files = [i for i in top if i.type == pafs.FileType.File and i.path.endswith(".parquet")]
        names = {n for t in contract.TABLES for n in (t.name, t.file_name)}
        for folder in sorted(i.path for i in top if i.type == pafs.FileType.Directory
                             and posixpath.basename(i.path) in names):
            files += self.fs.get_file_info(self.dataset_files(folder))
        for info in sorted(files, key=lambda i: i.path):
            name = posixpath.relpath(info.path, self.root)
            if self.uri.scheme == "s3":
                stamp = object_etag(self.fs, info.path)
            else:
                stamp = str(info.mtime_ns)
            digest.update(f"{name}\0{info.size}\0{stamp}\n".encode())
        return Fingerprint(digest.hexdigest())


def _partition_keys(files: list[str], folder: str) -> list[str]:
    """The Hive partition keys (``key=value`` folder names) of a dataset, in path order."""
    keys: list[str] = []
    for path in files:
        for part in posixpath.relpath(path, folder).split("/")[:-1]:
            key = unquote(part.split("=", 1)[0]) if "=" in part else None
            if key and key not in keys:
                keys.append(key)
    return keys

