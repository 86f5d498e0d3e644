"""The orchestrator's public surface, and the capture path staying free of it."""

import subprocess
import sys

import orca.orchestrator


def test_all_names_exist_and_are_public() -> None:
    """__all__ is exactly the room's public names."""
    names = set(orca.orchestrator.__all__)
    public = {n for n in dir(orca.orchestrator) if not n.startswith("_")}
    assert names == public


def test_rejection_codes_are_stable() -> None:
    """Each rejection class carries the code the issue and the HTTP API name."""
    assert sorted(orca.orchestrator.REJECTIONS) == [
        "budget-exceeded",
        "expired",
        "idempotency-conflict",
        "invalid-envelope",
        "policy-denied",
        "run-not-open",
        "unsupported-protocol",
    ]
    for code, cls in orca.orchestrator.REJECTIONS.items():
        assert issubclass(cls, orca.orchestrator.EnvelopeRejected)
        assert cls.code == code


def test_import_orca_does_not_load_the_orchestrator() -> None:
    """The capture path must not pay for the orchestrator."""
    code = "import sys, orca; print('orca.orchestrator' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]
