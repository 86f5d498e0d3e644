"""The check catalog loads its built-ins on the first read, not when ``orca.query`` is imported."""

import json
import subprocess
import sys
import textwrap

from orca.query._builtin import BUILTIN_MODULES


def _run(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object, returned here."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    loaded: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return loaded


def test_import_and_register_load_no_builtin_check() -> None:
    """Importing orca.query and using a non-check name imports no built-in check module."""
    out = _run(
        """
        import json, sys
        from orca.query import skeleton, resolve
        print(json.dumps({"m": sorted(m for m in sys.modules if m.startswith("orca.query."))}))
        """
    )
    modules = out["m"]
    assert isinstance(modules, list)
    assert not [m for m in modules if m in BUILTIN_MODULES or m.endswith("_registry")]


def test_first_read_lists_builtins_first_in_module_order() -> None:
    """A user check registered first and a built-in module imported out of order still list after
    and in order: built-ins by module, then yours."""
    out = _run(
        """
        import json
        from orca.query import CHECKS, check

        @check("zz-mine", ok="fine")
        def mine(scope):
            return []

        import orca.query._checks_orchestrated
        from orca.query._builtin import BUILTIN_MODULES
        names = list(CHECKS)
        ranks = [BUILTIN_MODULES.index(CHECKS[n].fn.__module__) for n in names[:-1]]
        print(json.dumps({"names": names, "ranks": ranks}))
        """
    )
    names, ranks = out["names"], out["ranks"]
    assert isinstance(names, list) and isinstance(ranks, list)
    assert names[-1] == "zz-mine" and "crashed" in names
    assert ranks == sorted(ranks) and set(ranks) == set(range(len(BUILTIN_MODULES)))


def test_user_check_cannot_take_a_builtin_name_before_the_first_read() -> None:
    """Registering under a built-in's name is refused even before anything read the catalog."""
    out = _run(
        """
        import json
        from orca.query import CheckError, check
        try:
            check("crashed", ok="mine")(lambda scope: [])
            print(json.dumps({"error": None}))
        except CheckError as exc:
            print(json.dumps({"error": str(exc)}))
        """
    )
    assert isinstance(out["error"], str) and "already registered" in out["error"]


def test_threads_reading_first_all_see_the_whole_catalog() -> None:
    """Threads that read the catalog first at once each see every built-in (one loads, the rest
    wait), not the part registered so far."""
    out = _run(
        """
        import json, threading
        from orca.query import CHECKS
        gate = threading.Barrier(8)
        seen = []
        def read():
            gate.wait()
            seen.append(len(CHECKS))
        threads = [threading.Thread(target=read) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(json.dumps({"seen": seen, "total": len(CHECKS)}))
        """
    )
    assert out["seen"] == [out["total"]] * 8
