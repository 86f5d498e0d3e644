"""A home holding the support-desk example, recorded once per module by `orca run`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def orca(*args: str, home: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real `orca` command against ``home``."""
    env = {**os.environ, "ORCA_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "orca", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="package")
def desk_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The support-desk example's store: crashed, orphan tool call, cache bust, error span."""
    home = tmp_path_factory.mktemp("desk") / "home"
    proc = orca("run", "--", sys.executable, str(ROOT / "examples" / "support_desk.py"), home=home)
    assert proc.returncode == 0, proc.stderr
    return home
