"""The governance room's public surface, and that it stays pure."""

import subprocess
import sys

import orca.governance


def test_all_is_the_public_surface() -> None:
    """__all__ lists exactly the public names the package defines."""
    public = {n for n in dir(orca.governance) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(orca.governance, n)).__name__ == "module"}
    assert set(orca.governance.__all__) == public - modules


def test_governance_imports_no_other_room() -> None:
    """Importing governance loads no store, ledger, journal, orchestrator or integrations."""
    code = (
        "import sys, orca\nbase = set(sys.modules)\nimport orca.governance\n"
        "print('\\n'.join(sorted(set(sys.modules) - base)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rooms = {m.split(".")[1] for m in out.stdout.split() if m.startswith("orca.")}
    assert rooms <= {"governance", "errors", "records", "_config"}, rooms  # the home config leaf
    assert "watchfiles" not in out.stdout.split()  # only the reloader's thread loads it
