"""The ledger's public surface, and the capture path staying free of it."""

import subprocess
import sys

import orca.ledger


def test_all_names_exist_and_are_public() -> None:
    """orca.ledger.__all__ is exactly its public names (the memory module aside), each defined."""
    names = set(orca.ledger.__all__)
    public = {n for n in dir(orca.ledger) if not n.startswith("_")} - {"memory"}
    assert names == public
    for name in names:
        assert getattr(orca.ledger, name) is not None


def test_import_orca_does_not_load_the_ledger() -> None:
    """The capture path must not pay for cryptography or the ledger."""
    code = "import sys, orca; print('orca.ledger' in sys.modules, 'cryptography' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
