"""The query room's public surface is exactly its ``__all__``."""

import orca.query


def test_all_is_the_public_surface() -> None:
    """Every public name is in ``__all__`` and every ``__all__`` name exists."""
    public = {n for n in dir(orca.query) if not n.startswith("_")}  # dir: lazy names too
    modules = {n for n in public if type(getattr(orca.query, n)).__name__ == "module"}
    assert set(orca.query.__all__) == public - modules
    assert {"check", "CheckScope", "CheckConfig", "Finding", "run_checks"} <= public
