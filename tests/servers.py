"""Real servers for tests, started by the test run on 127.0.0.1 and stopped after it.

- :func:`postgres_server`: a throw-away PostgreSQL cluster (the Debian ``postgresql``
  package's binaries; ``.ci/run`` installs them). initdb refuses root, so as root the
  cluster runs as the ``postgres`` system user, in a temporary folder it owns.
- :func:`s3_server`: moto's S3-compatible server, in this process, on a free port.

The session fixtures in ``tests/conftest.py`` wrap these for every test module.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
PG_USER = "accountrisk"
PG_PASSWORD = "s3cret:pw/@x"  # URI-hostile on purpose: it must be escaped and never shown
PG_DATABASE = "marketplace"


def free_port() -> int:
    """A TCP port nobody listens on at the moment, on 127.0.0.1."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def postgres_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb, or the folder of an
    ``initdb`` on PATH; None when PostgreSQL's server binaries are not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name)
                   if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


@dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL server: where it listens and who may log in."""

    port: int
    user: str = PG_USER
    password: str = PG_PASSWORD
    database: str = PG_DATABASE
    host: str = HOST

    def uri(self, database: str | None = None, schema: str | None = None) -> str:
        """The ``postgresql://`` URI of ``database`` (default: the test database)."""
        from urllib.parse import quote

        text = (f"postgresql://{self.user}:{quote(self.password, safe='')}@{self.host}:"
                f"{self.port}/{database or self.database}")
        return text + (f"?schema={schema}" if schema else "")


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a PostgreSQL cluster on a free loopback port (password login over TCP, no
    other listener but a socket in its own folder), yield it, stop and delete it."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL's initdb is not installed (apt-get install "
                                "postgresql)")
    root = Path(tempfile.mkdtemp(prefix="accountrisk-pg-"))
    as_postgres = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_postgres else []
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    password_file = root / "password"
    password_file.write_text(PG_PASSWORD + "\n")
    if as_postgres:
        shutil.chown(root, "postgres", "postgres")
        for path in (sockets, password_file):
            shutil.chown(path, "postgres", "postgres")
    port = free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    run(str(bin_dir / "initdb"), "-D", str(data), "-U", PG_USER, "--pwfile",
        str(password_file), "--auth-host=scram-sha-256", "--auth-local=trust",
        "-E", "UTF8", "--locale=C")
    options = (f"-c listen_addresses={HOST} -p {port} -k {sockets} -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off")
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
        "-w", "-t", "60", "start")
    try:
        run(str(bin_dir / "createdb"), "-h", str(sockets), "-p", str(port), "-U", PG_USER,
            PG_DATABASE)
        yield PostgresServer(port=port)
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class S3Server:
    """A running S3-compatible server and the AWS variables that reach it."""

    endpoint_url: str
    access_key: str = "testing-key"
    secret_key: str = "testing-secret"
    region: str = "us-east-1"

    @property
    def environment(self) -> dict[str, str]:
        """The standard AWS variables for this server."""
        return {"AWS_ENDPOINT_URL": self.endpoint_url, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_REGION": self.region}

    def client(self):  # noqa: ANN201 (boto3 has no types installed)
        """A boto3 S3 client of this server."""
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url,
                            aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name=self.region)


@contextlib.contextmanager
def s3_server() -> Iterator[S3Server]:
    """Start moto's S3 server in this process on a free loopback port; yield it; stop it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Server(endpoint_url=f"http://{host}:{port}")
    finally:
        server.stop()
