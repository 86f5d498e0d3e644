"""Wire formats: what differs between the OpenAI-compatible and the Anthropic APIs.

Everything else about recording a provider call (the transport wrapper, the
verbatim bodies, masking, timing, usage normalisation, pricing, the prefix
fingerprint) is shared; a :class:`Wire` is the handful of functions that read
one API's shapes: which tool calls a request answers, how a stream adds up to
one response, when a stream is complete, why a response stopped and which
tool calls it asks for.
"""

from collections.abc import Callable
from typing import Any, Final, NamedTuple

from orca.integrations import _anthropic_wire
from orca.integrations._stream import reassemble as _reassemble_chat

Doc = dict[str, Any]


class Wire(NamedTuple):
    name: str
    answered_calls: Callable[[Doc], list[str]]  # request → call ids it carries results for
    reassemble: Callable[[bytes], tuple[Doc, int]]  # SSE body → (response, events)
    complete: Callable[[bytes], bool]  # did a streamed body reach its end?
    finish_reasons: Callable[[Doc], list[str]]
    requested_calls: Callable[[Doc], list[str]]  # response → call ids it asks for


def _chat_answered(data: Doc) -> list[str]:
    messages = data.get("messages")
    if not isinstance(messages, list):
        return []
    return [
        str(m["tool_call_id"])
        for m in messages
        if isinstance(m, dict) and m.get("role") == "tool" and m.get("tool_call_id")
    ]


def _chat_reassemble(raw: bytes) -> tuple[Doc, int]:
    stream = _reassemble_chat(raw)
    return stream.completion(), stream.chunks


def _chat_choices(doc: Doc) -> list[Doc]:
    return [c for c in doc.get("choices") or () if isinstance(c, dict)]


def _chat_finish(doc: Doc) -> list[str]:
    return [str(c["finish_reason"]) for c in _chat_choices(doc) if c.get("finish_reason")]


def _chat_requested(doc: Doc) -> list[str]:
    out: list[str] = []
    for choice in _chat_choices(doc):
        message = choice.get("message")
        if isinstance(message, dict):
            for call in message.get("tool_calls") or ():
                if isinstance(call, dict) and call.get("id"):
                    out.append(str(call["id"]))
    return out


OPENAI: Final = Wire(
    "openai",
    _chat_answered,
    _chat_reassemble,
    lambda raw: b"[DONE]" in raw,
    _chat_finish,
    _chat_requested,
)
ANTHROPIC: Final = Wire(
    "anthropic",
    _anthropic_wire.answered_calls,
    _anthropic_wire.reassemble,
    _anthropic_wire.complete,
    _anthropic_wire.finish_reasons,
    _anthropic_wire.requested_calls,
)
WIRES: Final = {w.name: w for w in (OPENAI, ANTHROPIC)}
