"""The cacheable-prefix fingerprint: raw wire bytes, cut where providers cut."""

import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from orca.integrations import parse_request, prefix_of

TOOL = {"type": "function", "function": {"name": "read", "parameters": {"type": "object"}}}
TOOL_REORDERED = {
    "function": {"name": "read", "parameters": {"type": "object"}},
    "type": "function",
}


def _body(**doc: object) -> bytes:
    return json.dumps(doc).encode()


def _prefix_bytes(body: bytes) -> bytes:
    p = prefix_of(body)
    assert p is not None
    return b"".join(body[s:e] for s, e in p.ranges)


def test_prefix_is_tools_then_history_without_last_user_turn() -> None:
    """Tools in full, then messages up to (not including) the last user message."""
    msgs = [
        {"role": "system", "content": "persona"},
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
    ]
    body = _body(messages=msgs, model="m", tools=[TOOL])
    raw = _prefix_bytes(body)
    assert raw.startswith(b'"tools": [')
    assert b'"messages": [{"role": "system"' in raw
    assert b'"a1"}' in raw and b"q2" not in raw
    p = prefix_of(body)
    assert p is not None and p.size == len(raw) and not p.breakpoint
    assert p.fingerprint == hashlib.sha256(raw).hexdigest()


def test_tool_schema_key_order_changes_fingerprint() -> None:
    """Same content, keys reordered: the provider's cache misses, so the fingerprint differs."""
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}]
    a = prefix_of(_body(messages=msgs, tools=[TOOL]))
    b = prefix_of(_body(messages=msgs, tools=[TOOL_REORDERED]))
    assert a is not None and b is not None
    assert a.fingerprint != b.fingerprint
    assert a.size == b.size


def test_whitespace_change_changes_fingerprint() -> None:
    """The prefix fingerprint is of bytes: dropping JSON spaces changes it (and the cache)."""
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}]
    a = prefix_of(json.dumps({"messages": msgs}).encode())
    b = prefix_of(json.dumps({"messages": msgs}, separators=(",", ":")).encode())
    assert a is not None and b is not None and a.fingerprint != b.fingerprint


def test_new_user_turn_keeps_fingerprint() -> None:
    """Only the last user message differs (a warming send vs the real one): same prefix."""
    history = [{"role": "system", "content": "s"}, {"role": "user", "content": "q1"}]
    history += [{"role": "assistant", "content": "a1"}]
    warm = prefix_of(_body(messages=[*history, {"role": "user", "content": "."}]))
    real = prefix_of(_body(messages=[*history, {"role": "user", "content": "real question"}]))
    assert warm is not None and real is not None and warm.fingerprint == real.fingerprint


def test_cut_at_last_cache_control_breakpoint() -> None:
    """With breakpoints, the prefix ends with the object that holds the last one."""
    body = _body(
        system=[{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "doc", "cache_control": {"type": "ephemeral"}},
                    {"type": "text", "text": "after the breakpoint"},
                ],
            },
        ],
        tools=[{"name": "t"}],
    )
    p = prefix_of(body)
    assert p is not None and p.breakpoint
    raw = _prefix_bytes(body)
    assert raw.startswith(b'"tools": [{"name": "t"}]"system": [')
    assert raw.endswith(b'"cache_control": {"type": "ephemeral"}}')
    assert b"after the breakpoint" not in raw


def test_breakpoint_only_in_tools_cuts_there() -> None:
    """A cache breakpoint on a tool ends the cached prefix at that tool, before the messages."""
    tools = [{"name": "a", "cache_control": {"type": "ephemeral"}}, {"name": "b"}]
    body = _body(tools=tools, messages=[{"role": "user", "content": "x"}])
    assert _prefix_bytes(body) == b'"tools": [{"name": "a", "cache_control": {"type": "ephemeral"}}'


def test_non_ascii_ranges_are_byte_offsets() -> None:
    """Prefix ranges count UTF-8 bytes, so non-ASCII text is cut at the right place."""
    msgs = [{"role": "system", "content": "héllo — ü"}, {"role": "user", "content": "x"}]
    body = json.dumps({"messages": msgs}, ensure_ascii=False).encode()
    assert _prefix_bytes(body) == '"messages": [{"role": "system", "content": "héllo — ü"}'.encode()


def test_not_a_chat_request() -> None:
    """Bodies that are not one JSON object give no prefix (and never raise)."""
    for body in (b"", b"not json", b"[1, 2]", b'{"a": 1} trailing', b'{"a": ', b"\xff\xfe"):
        assert prefix_of(body) is None
    p = prefix_of(b'{"model": "m"}')
    assert p is not None and p.size == 0


_text = st.text(max_size=20)
_message = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant", "tool"]), "content": _text}
)


@given(
    messages=st.lists(_message, max_size=6),
    extra=st.dictionaries(st.text(max_size=8), st.integers() | _text, max_size=3),
    indent=st.sampled_from([None, 0, 2]),
    ascii_only=st.booleans(),
)
def test_parse_agrees_with_json_and_ranges_are_raw_slices(
    messages: list[dict[str, str]], extra: dict[str, object], indent: int | None, ascii_only: bool
) -> None:
    """Any serialisation: the decoded data equals json.loads, and every range is a raw slice
    that starts at a member key, so the prefix is exactly bytes that went on the wire."""
    doc = {**extra, "messages": messages, "tools": [TOOL]}
    body = json.dumps(doc, indent=indent, ensure_ascii=ascii_only).encode()
    request = parse_request(body)
    assert request is not None
    assert request.data == json.loads(body)
    p = request.prefix()
    for start, end in p.ranges:
        assert body[start:end].startswith((b'"tools"', b'"messages"'))
    raw = b"".join(body[s:e] for s, e in p.ranges)
    assert p.fingerprint == hashlib.sha256(raw).hexdigest() and p.size == len(raw)
