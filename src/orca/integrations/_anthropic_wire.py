"""Anthropic's Messages API on the wire: streamed events summed up, tool calls found.

A streamed ``/v1/messages`` response is a sequence of named events:
``message_start`` (the message shell with the input side of ``usage``),
``content_block_start`` / ``content_block_delta`` / ``content_block_stop`` per
content block (text, ``tool_use`` whose input arrives as partial JSON,
thinking), ``message_delta`` (stop reason and the output side of ``usage``)
and ``message_stop``; ``ping`` and ``error`` may come in between. Like the
OpenAI stream it is recorded as the one message it adds up to, never per
delta.

Tool calls are ``tool_use`` content blocks in the response (their ``id`` is
the call id) and are answered by ``tool_result`` blocks (``tool_use_id``) in a
later request's user message.
"""

from typing import Any

import orjson

from orca.integrations._stream import SseEvent, fold_events

_TEXT_DELTAS = {"text_delta": "text", "thinking_delta": "thinking", "signature_delta": "signature"}


class _Message:
    """The sum of a stream's events."""

    __slots__ = ("blocks", "errors", "events", "message", "partial_json")

    def __init__(self) -> None:
        self.events = 0
        self.message: dict[str, Any] = {}
        self.blocks: dict[int, dict[str, Any]] = {}
        self.partial_json: dict[int, list[str]] = {}
        self.errors: list[Any] = []

    def add_unparsed(self, event: SseEvent) -> None:
        """An event that is not JSON: counted, and kept as an error entry."""
        self.events += 1
        self.errors.append(event.unparsed())

    def add(self, event: dict[str, Any]) -> None:
        self.events += 1
        kind = event.get("type")
        if kind == "message_start" and isinstance(event.get("message"), dict):
            self.message = dict(event["message"])
        elif kind == "content_block_start" and isinstance(event.get("content_block"), dict):
            self.blocks[_index(event)] = dict(event["content_block"])
        elif kind == "content_block_delta" and isinstance(event.get("delta"), dict):
            self._delta(_index(event), event["delta"])
        elif kind == "message_delta":
            delta = event.get("delta")
            if isinstance(delta, dict):
                self.message.update({k: v for k, v in delta.items() if v is not None})
            usage = event.get("usage")
            if isinstance(usage, dict):  # cumulative: later values replace earlier ones
                merged = dict(self.message.get("usage") or {})
                merged.update({k: v for k, v in usage.items() if v is not None})
                self.message["usage"] = merged
        elif kind == "error":
            self.errors.append(event.get("error"))

    def _delta(self, index: int, delta: dict[str, Any]) -> None:
        block = self.blocks.setdefault(index, {"type": "text", "text": ""})
        kind = delta.get("type")
        if kind == "input_json_delta" and isinstance(delta.get("partial_json"), str):
            self.partial_json.setdefault(index, []).append(delta["partial_json"])
        elif kind in _TEXT_DELTAS:
            key = _TEXT_DELTAS[str(kind)]
            piece = delta.get(key)
            if isinstance(piece, str):
                block[key] = str(block.get(key) or "") + piece
        elif kind == "citations_delta" and delta.get("citation") is not None:
            block.setdefault("citations", []).append(delta["citation"])

    def completion(self) -> dict[str, Any]:
        """The equivalent non-streamed ``message`` object (marked as reassembled)."""
        content = []
        for index in sorted(self.blocks):
            block = dict(self.blocks[index])
            parts = self.partial_json.get(index)
            if parts is not None:
                raw = "".join(parts)
                try:
                    block["input"] = orjson.loads(raw) if raw else {}
                except orjson.JSONDecodeError:
                    block["input_json"] = raw  # kept as sent: the tool would have failed on it
            content.append(block)
        out = {**self.message, "content": content}
        if self.errors:
            out["errors"] = self.errors
        out["orca_reassembled_from_chunks"] = self.events
        return out


def _index(event: dict[str, Any]) -> int:
    index = event.get("index", 0)
    return index if isinstance(index, int) and not isinstance(index, bool) else 0


def reassemble(raw: bytes) -> tuple[dict[str, Any], int]:
    """(the message, number of events) from an SSE body of Messages API events."""
    out = fold_events(raw, _Message())
    return out.completion(), out.events


def complete(raw: bytes) -> bool:
    """Whether a streamed body reached its end (``message_stop``)."""
    return b'"message_stop"' in raw


def finish_reasons(doc: dict[str, Any]) -> list[str]:
    reason = doc.get("stop_reason")
    return [str(reason)] if reason else []


def requested_calls(doc: dict[str, Any]) -> list[str]:
    """Ids of the ``tool_use`` blocks of a response message."""
    return [
        str(block["id"])
        for block in doc.get("content") or ()
        if isinstance(block, dict) and block.get("type") == "tool_use" and block.get("id")
    ]


def answered_calls(data: dict[str, Any]) -> list[str]:
    """Ids the ``tool_result`` blocks of a request's messages answer."""
    out: list[str] = []
    for message in data.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for block in content:
            is_result = isinstance(block, dict) and block.get("type") == "tool_result"
            if is_result and block.get("tool_use_id"):
                out.append(str(block["tool_use_id"]))
    return out
