"""The server room's public surface, and `import orca` staying free of it."""

import subprocess
import sys

import orca
import orca.server


def test_all_names_exist_and_are_public() -> None:
    """__all__ is exactly the room's public names (Client included, though imported lazily)."""
    public = {n for n in dir(orca.server) if not n.startswith("_")} - {"TYPE_CHECKING"}
    public |= {"Client"}
    assert set(orca.server.__all__) == public
    for name in orca.server.__all__:
        assert getattr(orca.server, name) is not None


def test_orca_client_is_the_server_client_and_import_orca_stays_lean() -> None:
    """`orca.Client` resolves on first use; a bare `import orca` loads no server, no httpx."""
    assert orca.Client is orca.server.Client
    code = (
        "import sys, orca; print(any(m.startswith(('orca.server', 'httpx')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
