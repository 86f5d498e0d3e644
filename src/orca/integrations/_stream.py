"""Reassemble a streamed chat completion (Server-Sent Events) into one response.

Token deltas are not worth a record each (they are many and say nothing the
final text does not), so a streamed response is recorded as the completion it
adds up to: the text and tool calls of each choice, the finish reasons, the
usage the last chunk carries, and how many chunks it took.
"""

from collections.abc import Iterator
from typing import Any, NamedTuple, Protocol, TypeVar

import orjson


class Reassembled:
    """The sum of a stream's chunks."""

    __slots__ = ("choices", "chunks", "errors", "extra", "usage")

    def __init__(self) -> None:
        self.chunks = 0
        self.choices: dict[int, dict[str, Any]] = {}
        self.usage: dict[str, Any] | None = None
        self.extra: dict[str, Any] = {}  # id, model, created, system_fingerprint, …
        self.errors: list[Any] = []  # error events sent inside the stream

    def add_unparsed(self, event: "SseEvent") -> None:
        """A chunk that is not JSON: counted, and kept as an error entry."""
        self.chunks += 1
        self.errors.append(event.unparsed())

    def add(self, chunk: dict[str, Any]) -> None:
        self.chunks += 1
        if "error" in chunk:
            self.errors.append(chunk["error"])
        for key in ("id", "model", "created", "system_fingerprint", "service_tier", "cost"):
            if key in chunk and key not in self.extra:
                self.extra[key] = chunk[key]
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = usage
        for choice in chunk.get("choices") or ():
            if isinstance(choice, dict):
                self._add_choice(choice)

    def _add_choice(self, choice: dict[str, Any]) -> None:
        index = choice.get("index", 0)
        index = index if isinstance(index, int) else 0
        acc = self.choices.setdefault(index, {"content": [], "tool_calls": {}, "role": None})
        if choice.get("finish_reason"):
            acc["finish_reason"] = choice["finish_reason"]
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            return
        if delta.get("role"):
            acc["role"] = delta["role"]
        for key in ("content", "refusal", "reasoning_content"):
            piece = delta.get(key)
            if isinstance(piece, str):
                acc.setdefault(f"_{key}", []).append(piece)
        for call in delta.get("tool_calls") or ():
            if not isinstance(call, dict):
                continue
            slot = call.get("index", len(acc["tool_calls"]))
            tc = acc["tool_calls"].setdefault(
                slot, {"id": None, "type": "function", "name": [], "arguments": []}
            )
            if call.get("id"):
                tc["id"] = call["id"]
            if call.get("type"):
                tc["type"] = call["type"]
            fn = call.get("function")
            if isinstance(fn, dict):
                if isinstance(fn.get("name"), str):
                    tc["name"].append(fn["name"])
                if isinstance(fn.get("arguments"), str):
                    tc["arguments"].append(fn["arguments"])

    def completion(self) -> dict[str, Any]:
        """The equivalent non-streamed ``chat.completion`` object (marked as reassembled)."""
        choices = []
        for index in sorted(self.choices):
            acc = self.choices[index]
            message: dict[str, Any] = {"role": acc["role"] or "assistant"}
            for key in ("content", "refusal", "reasoning_content"):
                parts = acc.get(f"_{key}")
                if parts is not None:
                    message[key] = "".join(parts)
            if "content" not in message:
                message["content"] = None
            if acc["tool_calls"]:
                message["tool_calls"] = [
                    {
                        "id": tc["id"],
                        "type": tc["type"],
                        "function": {
                            "name": "".join(tc["name"]),
                            "arguments": "".join(tc["arguments"]),
                        },
                    }
                    for _, tc in sorted(acc["tool_calls"].items())
                ]
            choices.append(
                {"index": index, "message": message, "finish_reason": acc.get("finish_reason")}
            )
        out: dict[str, Any] = {**self.extra, "object": "chat.completion", "choices": choices}
        if self.usage is not None:
            out["usage"] = self.usage
        if self.errors:
            out["errors"] = self.errors
        out["orca_reassembled_from_chunks"] = self.chunks
        return out


class SseEvent(NamedTuple):
    """One server-sent event's data: ``doc`` parsed from ``payload`` when ``parsed``."""

    doc: Any
    payload: bytes
    parsed: bool

    def unparsed(self) -> dict[str, str]:
        """The error entry for an event that is not JSON (its first 500 characters)."""
        return {"unparsed_event": self.payload.decode("utf-8", "replace")[:500]}


def sse_events(raw: bytes) -> Iterator[SseEvent]:
    """Each ``data:`` event of an SSE body (multi-line data joined; ``[DONE]`` skipped)."""
    for event in raw.replace(b"\r\n", b"\n").split(b"\n\n"):
        data = [line[5:].lstrip() for line in event.split(b"\n") if line.startswith(b"data:")]
        if not data:
            continue
        payload = b"\n".join(data)
        if payload == b"[DONE]":
            continue
        try:
            yield SseEvent(orjson.loads(payload), payload, True)
        except orjson.JSONDecodeError:
            yield SseEvent(None, payload, False)


class Folder(Protocol):
    """What a stream's events add up into (a chat completion, a Messages API message)."""

    def add(self, doc: dict[str, Any]) -> None: ...

    def add_unparsed(self, event: SseEvent) -> None: ...


F = TypeVar("F", bound=Folder)


def fold_events(raw: bytes, into: F) -> F:
    """Add every event of an SSE body to ``into`` (JSON objects; the rest as unparsed)."""
    for event in sse_events(raw):
        if not event.parsed:
            into.add_unparsed(event)
        elif isinstance(event.doc, dict):
            into.add(event.doc)
    return into


def reassemble(raw: bytes) -> Reassembled:
    """Parse an SSE body (``data: {...}`` events; ``[DONE]`` ignored) into one result."""
    return fold_events(raw, Reassembled())
