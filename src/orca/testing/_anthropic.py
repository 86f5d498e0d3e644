"""The fake provider's Anthropic side: ``POST /v1/messages`` as JSON or as events.

Answers in the Messages API's shapes: a ``message`` object with ``text`` and
``tool_use`` content blocks, ``stop_reason``, and ``usage`` with
``input_tokens``, ``cache_creation_input_tokens``, ``cache_read_input_tokens``
and ``output_tokens``; streamed as ``message_start`` … ``message_stop``
events (with a ``ping``) when the request asks for ``stream``. Errors use the
``{"type": "error", "error": {...}}`` body.

Made-up usage follows the breakpoint rule, simplified: the request is read
as blocks in cache order (each tool, each system block, each message's
content blocks); the prefix ending at each ``cache_control`` block is written
to the cache (when at least ``cache_min_tokens`` long), and the longest
prefix, at any block boundary, that an earlier request wrote is read from it.
So a change in the system prompt still reads the tools' entry and writes the
rest again, as the real API does.
"""

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any, Final

MESSAGES_PATH: Final = "/v1/messages"
_BYTES_PER_TOKEN: Final = 4


def error_body(message: str, type: str) -> bytes:
    """An Anthropic-style error body."""
    return json.dumps({"type": "error", "error": {"type": type, "message": message}}).encode()


def stop_reason(reply: Any) -> str:
    return reply.finish_reason or ("tool_use" if reply.tool_calls else "end_turn")


def _cache_blocks(doc: Any) -> list[tuple[bytes, bool]]:
    """(serialised block, carries a breakpoint) in cache order: tools, system, messages."""
    out: list[tuple[bytes, bool]] = []

    def add(value: Any, prefix: str = "") -> None:
        mark = isinstance(value, dict) and "cache_control" in value
        if mark:  # the marker is not content: a moved breakpoint still hits
            value = {k: v for k, v in value.items() if k != "cache_control"}
        out.append(((prefix + json.dumps(value, sort_keys=False)).encode(), mark))

    if not isinstance(doc, dict):
        return out
    for tool in doc.get("tools") or ():
        add(tool)
    system = doc.get("system")
    for block in system if isinstance(system, list) else ([system] if system else []):
        add(block)
    for message in doc.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else message
        role = str(message.get("role")) + ":" if isinstance(message, dict) else ""
        for block in content if isinstance(content, list) else [content]:
            add(block, role)
    return out


class PromptCache:
    """The prefixes earlier requests wrote (sha256 of the prefix bytes → tokens)."""

    def __init__(self) -> None:
        self.entries: dict[str, int] = {}

    def usage(self, doc: Any, total_tokens: int, min_tokens: int) -> tuple[int, int]:
        """(read, written) tokens for a request, writing its breakpoints' prefixes."""
        digest = hashlib.sha256()
        size = 0
        read = 0
        marks: list[tuple[str, int]] = []
        for raw, mark in _cache_blocks(doc):
            digest.update(raw)
            size += len(raw)
            key, tokens = digest.hexdigest(), size // _BYTES_PER_TOKEN
            if key in self.entries:
                read = tokens
            if mark and tokens >= min_tokens:
                marks.append((key, tokens))
        for key, tokens in marks:
            self.entries[key] = tokens
        last = marks[-1][1] if marks else 0
        read = min(read, total_tokens)
        return read, min(max(last - read, 0), total_tokens - read)


def usage(reply: Any, doc: Any, body: bytes, cache: PromptCache, min_tokens: int) -> dict[str, Any]:
    """Scripted usage, or usage made up the way a breakpoint cache would count it."""
    if reply.usage is not None:
        out = dict(reply.usage)
    else:
        total = max(len(body) // _BYTES_PER_TOKEN, 1)
        read, write = cache.usage(doc, total, min_tokens)
        out = {
            "input_tokens": total - read - write,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
            "output_tokens": max(len(reply.content) // _BYTES_PER_TOKEN, 1),
        }
    if reply.cost is not None:
        out["cost"] = reply.cost
    return out


def _blocks(reply: Any) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.content:
        blocks.append({"type": "text", "text": reply.content})
    for call in reply.tool_calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": call["id"],
                "name": call["name"],
                "input": json.loads(call.get("arguments") or "{}"),
            }
        )
    return blocks


def message(reply: Any, model: str, message_id: str, use: Mapping[str, Any]) -> bytes:
    doc = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _blocks(reply),
        "stop_reason": stop_reason(reply),
        "stop_sequence": None,
        "usage": dict(use),
    }
    return json.dumps(doc).encode()


def _event(name: str, doc: Mapping[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + json.dumps(doc).encode() + b"\n\n"


def events(reply: Any, model: str, message_id: str, use: Mapping[str, Any]) -> Iterator[bytes]:
    """The streamed form: input usage first, output usage in ``message_delta``."""
    start_usage = {k: v for k, v in use.items() if k != "output_tokens"}
    start_usage["output_tokens"] = 1
    shell: dict[str, Any] = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    yield _event("message_start", {"type": "message_start", "message": shell})
    yield _event("ping", {"type": "ping"})
    step = max(reply.chunk_chars, 1)
    for index, block in enumerate(_blocks(reply)):
        if block["type"] == "text":
            head: dict[str, Any] = {"type": "text", "text": ""}
            pieces = [block["text"][i : i + step] for i in range(0, len(block["text"]), step)]
            deltas = [{"type": "text_delta", "text": p} for p in pieces]
        else:
            head = {**block, "input": {}}
            raw = json.dumps(block["input"])
            parts = [raw[i : i + step] for i in range(0, len(raw), step)]
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in parts]
        start = {"type": "content_block_start", "index": index, "content_block": head}
        yield _event("content_block_start", start)
        for delta in deltas:
            piece = {"type": "content_block_delta", "index": index, "delta": delta}
            yield _event("content_block_delta", piece)
        yield _event("content_block_stop", {"type": "content_block_stop", "index": index})
    delta = {"stop_reason": stop_reason(reply), "stop_sequence": None}
    end_usage = {"output_tokens": use.get("output_tokens", 1)}
    yield _event("message_delta", {"type": "message_delta", "delta": delta, "usage": end_usage})
    if reply.stream_error is not None:
        yield _event("error", {"type": "error", "error": dict(reply.stream_error)})
        return
    yield _event("message_stop", {"type": "message_stop"})
