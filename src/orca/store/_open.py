"""Which store, and opening it: ``open_store(url_or_home)`` is the one factory.

A store is named by a URL: ``sqlite:///path/to/store.sqlite`` (the default,
``<home>/store.sqlite``) or ``postgresql://user@host/db``. Given a home, the
URL comes from, first to last: ``$ORCA_STORE`` (what ``orca --store URL``
sets), ``store = "…"`` at the top of ``<home>/config.toml``, the default.
Many homes (on many hosts) may name one PostgreSQL database: each home is
an *origin* there (its host name and home path), so offsets, sources and
writer processes stay per origin while traces and bodies are shared.
"""

import dataclasses
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal
from urllib.parse import urlsplit, urlunsplit

from orca.store._errors import StoreError
from orca.store._protocol import TraceStore

STORE_ENV: Final = "ORCA_STORE"  # the variable naming the store's URL (what `orca --store` sets)
STORE_FILE: Final = "store.sqlite"  # the default store: this SQLite file under the home
Engine = Literal["sqlite", "postgresql"]
_PG_SCHEMES: Final = ("postgresql", "postgres")


def store_path(home_or_path: str | os.PathLike[str]) -> Path:
    """``<home>/store.sqlite`` for a home directory; the path itself for a ``*.sqlite`` file."""
    path = Path(home_or_path)
    if path.suffix in (".sqlite", ".db", ".sqlite3") and not path.is_dir():
        return path
    return path / STORE_FILE


def mask_url(url: str) -> str:
    """The URL with its password replaced (what status output and errors show)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


@dataclass(frozen=True, slots=True)
class StoreLocation:
    """A resolved store: its engine, full URL, SQLite file (if any) and origin."""

    engine: Engine
    url: str  # may hold a password: never print it, print ``shown``
    path: Path | None  # the SQLite file
    origin: str  # '<host>:<home>' — whose offsets and writers these are
    home: Path | None = None  # the home it was chosen for (its blob store keeps big bodies)

    @property
    def shown(self) -> str:
        return mask_url(self.url)


def _configured(home: Path) -> str | None:
    from orca._config import config_path, read_config

    value = read_config(home).get("store")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise StoreError(
            f'{config_path(home)}: `store` must be a URL string (store = "postgresql://…")'
        )
    return value.strip()


def parse_url(url: str, origin: str) -> StoreLocation:
    """A store URL → :class:`StoreLocation`; a clear :class:`StoreError` for anything else."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "sqlite":
        rest = url.split("://", 1)[1]
        if not rest.startswith("/") or rest == "/":
            raise StoreError(
                f"store URL {mask_url(url)!r}: give an absolute file path, sqlite:///path/store.sqlite"
            )
        path = Path(rest[1:] if rest.startswith("//") else rest)
        return StoreLocation("sqlite", f"sqlite://{path}", store_path(path), origin)
    if scheme in _PG_SCHEMES:
        return StoreLocation("postgresql", url, None, origin)
    raise StoreError(
        f"store URL {mask_url(url)!r} is neither sqlite:///path nor postgresql://user@host/db"
    )


def origin_of(home: Path | None) -> str:
    host = socket.gethostname()
    return f"{host}:{home.absolute()}" if home is not None else host


def locate_store(url_or_home: str | os.PathLike[str]) -> StoreLocation:
    """Resolve a URL, a ``*.sqlite`` file or a home (its env/config/default) to a location."""
    text = os.fspath(url_or_home)
    if "://" in text:
        return parse_url(text, origin_of(None))
    path = Path(text)
    if path.suffix in (".sqlite", ".db", ".sqlite3") and not path.is_dir():
        return StoreLocation("sqlite", f"sqlite://{path.absolute()}", path, origin_of(None))
    home = path.absolute()
    chosen = os.environ.get(STORE_ENV) or _configured(home)
    if chosen:
        return dataclasses.replace(parse_url(chosen, origin_of(home)), home=home)
    file = store_path(home)
    return StoreLocation("sqlite", f"sqlite://{file}", file, origin_of(home), home)


def store_exists(where: StoreLocation) -> bool:
    """Whether there is a store to read (a server-side store is created by its first open)."""
    return where.path.exists() if where.path is not None else True


def open_location(
    where: StoreLocation, *, create: bool = False, handoff: bool = False
) -> TraceStore:
    """Open the store at ``where`` (see :func:`open_store`)."""
    if where.engine == "sqlite":
        from orca.store._sqlite import SQLiteStore

        assert where.path is not None
        # A home this process cannot write (a read-only mount, a colleague's copy) is read as is.
        parent = where.path.parent
        readonly = parent.is_dir() and not os.access(parent, os.W_OK)
        return SQLiteStore.open(where.path, create=create, readonly=readonly, handoff=handoff)
    from orca.store._pg import PostgresStore

    return PostgresStore.open(where.url, origin=where.origin, home=where.home)


def open_store(
    url_or_home: str | os.PathLike[str], *, create: bool = False, handoff: bool = False
) -> TraceStore:
    """The store named by a URL, a ``*.sqlite`` file, or a home's choice (see module doc).

    ``create``: build an SQLite store that does not exist yet (the collector
    does; readers get a clear :class:`StoreError` instead). A PostgreSQL store
    is migrated on open; its database must exist. ``handoff``: an SQLite
    connection that one user at a time may pass between threads (the server's
    per-request store; a PostgreSQL store pools its connections anyway).
    """
    return open_location(locate_store(url_or_home), create=create, handoff=handoff)
