"""The hot path stays lean: importing orca pulls in none of the heavy rooms or libraries."""

import subprocess
import sys

FORBIDDEN = (
    "orca.store",
    "orca.blobs",
    "orca.collector",
    "orca.query",
    "orca.server",
    "orca.ledger",
    "orca.cli",
    "orca.integrations",
    "orca.orchestrator",
    "pydantic",
    "cryptography",
    "httpx",
    "openai",
    "anthropic",
    "agents",
    "httpx2",
    "http.client",
    "urllib.request",
    "sqlite3",
    "zstandard",
    "rich",
    "click",
    "asyncio",
)
# Not even these until a recorder is opened: a disabled or unused orca costs nothing more.
NOT_AT_IMPORT = ("orjson", "orca.records", "orca.journal._reader", "socket", "dataclasses")


def test_import_orca_loads_no_heavy_module() -> None:
    """A fresh interpreter that imports orca (and records a span) has none of FORBIDDEN loaded."""
    code = (
        "import sys, tempfile, orca\n"
        "rec = orca.Recorder.open(tempfile.mkdtemp(), heartbeat_s=None)\n"
        "rec.logger('a').span('s').end()\n"
        "rec.close()\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    bad = sorted(m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    assert bad == []
    assert "orca.capture" in loaded and "orca.journal" in loaded


def test_bare_import_defers_the_writer() -> None:
    """`import orca` alone loads neither orjson nor the record validator (open() does)."""
    code = "import sys, orca\nprint('\\n'.join(sorted(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    assert sorted(m for m in NOT_AT_IMPORT if m in loaded) == []


def test_integration_modules_import_no_provider_sdk() -> None:
    """The Anthropic and OpenAI integrations work on the client they are handed: no SDK import."""
    code = (
        "import sys, orca.integrations.anthropic, orca.integrations.openai\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    sdks = ("anthropic", "openai", "agents", "httpx", "httpx2")
    assert sorted(m for m in loaded if m.split(".")[0] in sdks) == []
