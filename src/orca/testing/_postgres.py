"""A throwaway PostgreSQL cluster for tests and benches: ``initdb`` + ``pg_ctl`` in a temp dir.

Debian's ``postgresql`` package puts the server binaries under
``/usr/lib/postgresql/<major>/bin``. The cluster listens on a free loopback
port with its unix socket inside its own directory, trusts local
connections, and is stopped (``pg_ctl stop -m immediate``) and deleted when
the context exits. PostgreSQL refuses to run as root, so under root (CI) the
data directory is handed to an unprivileged user (``nobody``) and the
binaries run as that user through ``runuser``.
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

UNPRIVILEGED: Final = "nobody"


def postgres_bin() -> Path | None:
    """The newest installed server's bin directory, or None (why tests skip)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    env = os.environ.get("ORCA_PG_BIN")
    if env:
        return Path(env) if (Path(env) / "initdb").exists() else None
    return Path(found[-1]).parent if found else None


@dataclass(frozen=True, slots=True)
class PostgresCluster:
    """A running cluster: connect with :meth:`url`."""

    port: int
    socket_dir: Path
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A fresh database; its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_cluster(bin_dir: Path | None = None) -> Iterator[PostgresCluster]:
    """Start a throwaway cluster; stop and delete it on exit. RuntimeError when impossible."""
    bin_dir = bin_dir or postgres_bin()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL server binaries (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="orca-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_root = os.geteuid() == 0
    prefix: list[str] = ["runuser", "-u", UNPRIVILEGED, "--"] if as_root else []
    user = UNPRIVILEGED if as_root else os.environ.get("USER") or "postgres"
    if as_root:
        import pwd

        pw = pwd.getpwnam(UNPRIVILEGED)
        os.chmod(root, 0o755)
        os.chown(root, pw.pw_uid, pw.pw_gid)
        os.chown(sock, pw.pw_uid, pw.pw_gid)
    port = _free_port()

    def run(*args: str) -> None:
        proc = subprocess.run([*prefix, *args], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {(proc.stderr or proc.stdout).strip()[-500:]}")

    try:
        if as_root:
            data.mkdir()
            os.chown(data, pw.pw_uid, pw.pw_gid)
        run(
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            user,
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        opts = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sock}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=60 -c shared_buffers=64MB"
        )
        run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-w",
            "-t",
            "60",
            "-l",
            str(root / "log"),
            "start",
        )
        try:
            yield PostgresCluster(port, sock, user)
        finally:
            subprocess.run(
                [
                    *prefix,
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                check=False,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
