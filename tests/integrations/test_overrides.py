"""Per-request overrides: one frozen value per block, merged over the enclosing one."""

import dataclasses
import threading

import pytest

from orca.integrations._overrides import (
    NO_OVERRIDES,
    current_overrides,
    pop_overrides,
    push_overrides,
)
from orca.integrations.openai import request_context
from orca.testing import capture_records


def test_nested_blocks_merge_and_restore() -> None:
    """An inner block keeps the outer parent and adds its own fields; leaving restores the outer."""
    with capture_records() as (rec, _):
        step = rec.logger("a").span("step")
        with request_context(parent=step, conversation_id="c1"):
            with request_context(cache_send="warm"):
                inner = current_overrides()
                assert (inner.parent, inner.conversation_id, inner.cache_send) == (
                    step,
                    "c1",
                    "warm",
                )
            assert current_overrides().cache_send is None
        assert current_overrides() is NO_OVERRIDES


def test_the_value_is_frozen() -> None:
    """Nobody can change the settings another block is reading."""
    token = push_overrides(conversation_id="c")
    try:
        with pytest.raises(dataclasses.FrozenInstanceError):
            current_overrides().conversation_id = "other"  # type: ignore[misc]
    finally:
        pop_overrides(token)


def test_threads_do_not_see_each_others_block() -> None:
    """A block in one thread is invisible to another thread."""
    seen: list[str | None] = []
    token = push_overrides(conversation_id="main")
    try:
        worker = threading.Thread(target=lambda: seen.append(current_overrides().conversation_id))
        worker.start()
        worker.join()
    finally:
        pop_overrides(token)
    assert seen == [None]
