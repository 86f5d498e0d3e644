"""Anthropic's wire format as plain functions: event streams summed up, tool ids found."""

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import orca.integrations.anthropic
import orca.integrations.openai_agents
from orca.integrations._anthropic_wire import answered_calls, reassemble, requested_calls
from orca.testing import Reply
from orca.testing import _anthropic as fake

USE = {
    "input_tokens": 12,
    "cache_creation_input_tokens": 100,
    "cache_read_input_tokens": 2000,
    "output_tokens": 33,
}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def _stream(reply: Reply) -> bytes:
    return b"".join(fake.events(reply, "claude-x", "msg_1", USE))


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(max_size=40),
    args=st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=4),
    chunk=st.integers(min_value=1, max_value=9),
)
def test_reassembled_stream_equals_the_json_message(
    text: str, args: dict[str, Any], chunk: int
) -> None:
    """Invariant: however the deltas are cut, the stream adds up to the non-streamed message."""
    calls = [{"id": "toolu_1", "name": "f", "arguments": json.dumps(args)}]
    reply = Reply(text, tool_calls=calls, chunk_chars=chunk)
    whole = json.loads(fake.message(reply, "claude-x", "msg_1", USE))
    doc, events = reassemble(_stream(reply))
    assert doc["content"] == whole["content"]
    assert doc["usage"] == whole["usage"]
    assert doc["stop_reason"] == whole["stop_reason"] == "tool_use"
    assert events == doc["orca_reassembled_from_chunks"] >= 6
    assert requested_calls(doc) == ["toolu_1"]


def test_unparseable_tool_input_is_kept_as_sent() -> None:
    """Partial JSON that does not add up to JSON stays as the raw string, never dropped."""
    raw = (
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"tool_use","id":"toolu_9","name":"f","input":{}}}\n\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"input_json_delta","partial_json":"{\\"a\\": "}}\n\n'
        b"data: not json\n\n"
    )
    doc, events = reassemble(raw)
    assert doc["content"][0]["input_json"] == '{"a": '
    assert doc["errors"] == [{"unparsed_event": "not json"}]
    assert events == 3


def test_tool_results_in_a_request_are_the_answered_calls() -> None:
    """``tool_result`` blocks (any user message) name the tool_use ids they answer."""
    request = {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_a"}]},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_a", "content": "ok"},
                    {"type": "text", "text": "and?"},
                ],
            },
        ]
    }
    assert answered_calls(request) == ["toolu_a"]
    assert answered_calls({"messages": "nonsense"}) == []


def test_fake_prompt_cache_hits_per_breakpoint() -> None:
    """The fake's cache: a moved breakpoint still reads; a system change reads the tools only."""
    mark = {"type": "ephemeral"}
    tools = [{"name": "t", "description": "d" * 4000, "cache_control": mark}]
    system = [{"type": "text", "text": "s" * 4000, "cache_control": mark}]
    first = {"tools": tools, "system": system, "messages": [{"role": "user", "content": "q"}]}
    cache = fake.PromptCache()
    assert cache.usage(first, 10_000, 500)[0] == 0
    grown = {**first, "messages": [*first["messages"], {"role": "user", "content": "q2"}]}
    read, _ = cache.usage(grown, 10_000, 500)
    assert read > 2000  # tools and system both hit
    changed = {**first, "system": [{**system[0], "text": "S" + "s" * 3999}]}
    read_changed, written = cache.usage(changed, 10_000, 500)
    assert 900 < read_changed < 1100 and written > 900  # only the tools' entry hit


def test_public_surfaces() -> None:
    """The integration modules export exactly what a user types."""
    assert orca.integrations.anthropic.__all__ == [
        "InstrumentError",
        "http_client",
        "instrument",
        "request_context",
        "settings_of",
    ]
    assert orca.integrations.openai_agents.__all__ == ["OrcaTracingProcessor"]
