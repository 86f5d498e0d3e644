"""Store selection by URL: --store, $ORCA_STORE, the home config, the default."""

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from orca.cli import cli
from orca.store import (
    STORE_ENV,
    SQLiteStore,
    StoreError,
    locate_store,
    mask_url,
    open_store,
    parse_url,
)


def test_default_is_the_home_sqlite_file(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No URL anywhere: sqlite:///<home>/store.sqlite, origin naming this host and home."""
    monkeypatch.delenv(STORE_ENV, raising=False)
    where = locate_store(home)
    assert where.engine == "sqlite" and where.path == home / "store.sqlite"
    assert where.url == f"sqlite://{home / 'store.sqlite'}"
    assert where.origin.endswith(f":{home}")


def test_config_then_env_then_explicit(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`store = …` in config.toml is used; $ORCA_STORE overrides it; a URL argument wins."""
    monkeypatch.delenv(STORE_ENV, raising=False)
    (home / "config.toml").write_text('store = "postgresql://orca:s3cret@db.internal/orca"\n')
    where = locate_store(home)
    assert where.engine == "postgresql" and where.shown == "postgresql://orca:***@db.internal/orca"
    other = home / "other.sqlite"
    monkeypatch.setenv(STORE_ENV, f"sqlite://{other}")
    assert locate_store(home).path == other
    assert locate_store(f"sqlite://{home / 'x.sqlite'}").path == home / "x.sqlite"


@pytest.mark.parametrize(
    "url", ["mysql://x/y", "sqlite://relative.sqlite", "sqlite:///", "redis://h"]
)
def test_bad_urls_say_what_to_write(url: str) -> None:
    """A URL that names no engine ORCA has is one clear error naming the two forms."""
    with pytest.raises(StoreError, match="sqlite:///"):
        parse_url(url, "o")


def test_bad_config_value(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`store = 3` is refused with the file and the expected shape."""
    monkeypatch.delenv(STORE_ENV, raising=False)
    (home / "config.toml").write_text("store = 3\n")
    with pytest.raises(StoreError, match="must be a URL string"):
        locate_store(home)


def test_mask_url_keeps_everything_but_the_password() -> None:
    """Passwords never reach output; URLs without one are unchanged."""
    assert mask_url("postgresql://u:p@h:5432/db?sslmode=require") == (
        "postgresql://u:***@h:5432/db?sslmode=require"
    )
    assert mask_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_open_store_by_url_and_by_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """open_store opens a URL or a home's store; an unreachable server is a StoreError."""
    monkeypatch.delenv(STORE_ENV, raising=False)
    with open_store(home, create=True) as store:
        assert isinstance(store, SQLiteStore) and store.engine == "sqlite"
    with open_store(f"sqlite://{home / 'store.sqlite'}") as store:
        assert store.url == f"sqlite://{home / 'store.sqlite'}"
    with pytest.raises(StoreError, match=r"cannot connect to the store postgresql://u:\*\*\*@"):
        open_store("postgresql://u:pw@127.0.0.1:1/nothing?connect_timeout=1")


def test_status_and_global_store_option(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`orca --store URL status --json` reports that store; a bad --store is exit 2, one line."""
    monkeypatch.delenv(STORE_ENV, raising=False)
    other = home / "elsewhere.sqlite"
    open_store(other, create=True).close()
    runner = CliRunner()
    out = runner.invoke(
        cli, ["--store", f"sqlite://{other}", "status", "--home", str(home), "--json"]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["store"]["url"] == f"sqlite://{other}"
    bad = runner.invoke(cli, ["--store", "mysql://x", "traces", "--home", str(home)])
    assert bad.exit_code == 2 and "sqlite:///path" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
    assert STORE_ENV not in os.environ  # --store lasts one command, not the process


def test_public_surface() -> None:
    """`orca.store.__all__` lists exactly the public names the package exports."""
    import types

    import orca.store as store

    public = {
        name
        for name, value in vars(store).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(store.__all__) == public
    assert {"TraceStore", "TraceReader", "open_store", "migrate", "SpanStat"} <= public
