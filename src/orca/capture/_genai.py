"""GenAI helpers on top of spans: tool calls and prompt-assembly provenance.

Two facts a debugger needs and a provider edge cannot see on its own:

* **Which tool call answered which request.** A model asks for tool calls by
  id; the agent runs them. :func:`tool_call` records each run as a
  ``tool-call`` span and links it (reason ``answers``) to the
  ``provider.request`` span that asked for that id, so a call that was asked
  for and never answered (an orphan) is a plain query.
* **Who put what into the prompt.** :func:`prompt_assembly` records the
  ordered segments of a request (persona, tool definitions, skills, history,
  the user message) with their sizes and *where they sit* in the verbatim
  request body, without copying their text.

Standard library only, like the rest of ``orca.capture``.
"""

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final

from orca.capture._span import Logger, Span, SpanRef, requests_of

TOOL_CALL_SPAN: Final = "tool-call"
PROMPT_ASSEMBLY_SPAN: Final = "prompt.assembly"
ANSWERS: Final = "answers"


def _dumps(value: object) -> str:
    import orjson  # imported when first used, not by `import orca`

    return orjson.dumps(value).decode()


def note_tool_requests(asked_by: Span, call_ids: Sequence[str]) -> None:
    """Remember that ``asked_by`` (a provider.request span) asked for these tool call ids.

    Integrations call this when a response carries tool calls; :func:`tool_call`
    then links the span that answers each id back to it. The ids are kept by
    the recorder that made ``asked_by`` (nothing is kept for a disabled one).
    """
    requests = requests_of(asked_by)
    if call_ids and requests is not None:
        requests.note(asked_by, call_ids)


def tool_requester(handle: "Span | Logger", call_id: str) -> SpanRef | None:
    """The span that asked for ``call_id``, when ``handle``'s recorder saw the request."""
    requests = requests_of(handle)
    return requests.asked_by(call_id) if requests is not None else None


class ToolCall:
    """The handle a :func:`tool_call` block works with: set the result, mark an error."""

    __slots__ = ("is_error", "result", "span")

    def __init__(self, span: Span) -> None:
        self.span = span
        self.result: object = None
        self.is_error = False

    def set_result(self, result: object, *, is_error: bool = False) -> None:
        """What the tool returned (recorded as the span-close body) and whether it is an error."""
        self.result = result
        self.is_error = is_error


@contextmanager
def tool_call(
    span: Span,
    name: str,
    call_id: str | None,
    input: object = None,
    *,
    asked_by: SpanRef | None = None,
    attrs: Mapping[str, object] | None = None,
) -> Iterator[ToolCall]:
    """Record one tool run as a ``tool-call`` child of ``span``.

    ``input`` becomes the span-open body, the result set on the handle the
    span-close body. A raised exception marks the call failed (and is
    re-raised); ``set_result(..., is_error=True)`` marks a tool that reported
    an error without raising. The span is linked (reason ``answers``) to the
    provider.request span that asked for ``call_id`` — ``asked_by`` when
    given, else the one an instrumented client of the same recorder saw.
    """
    open_attrs: dict[str, object] = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
    }
    if call_id:
        open_attrs["gen_ai.tool.call.id"] = call_id
    if attrs:
        open_attrs.update(attrs)
    child = span.child(TOOL_CALL_SPAN, open_attrs, body=input)
    requester = asked_by
    if requester is None and call_id:
        requester = tool_requester(span, call_id)
    if requester is not None:
        child.add_link(requester, reason=ANSWERS, attrs={"gen_ai.tool.call.id": call_id or ""})
    handle = ToolCall(child)
    started = time.perf_counter_ns()
    try:
        yield handle
    except BaseException as exc:
        child.end(
            {"orca.tool.is_error": True, "orca.tool.duration_ms": _ms_since(started)},
            body=handle.result,
            error=exc,
        )
        raise
    child.end(
        {"orca.tool.is_error": handle.is_error, "orca.tool.duration_ms": _ms_since(started)},
        body=handle.result,
    )


def _ms_since(started_ns: int) -> float:
    return round((time.perf_counter_ns() - started_ns) / 1e6, 3)


def prompt_assembly(
    span: Span, segments: Sequence[Mapping[str, Any]], *, attrs: Mapping[str, object] | None = None
) -> Span:
    """Record how a prompt was built: a closed ``prompt.assembly`` child of ``span``.

    Each segment is ``{contributor, kind, role, chars}`` (``kind`` is e.g.
    persona, tool-def, skill, history, user-msg). Say where its content sits
    in the verbatim request body with ``ref`` (a JSON pointer, optionally with
    a character range: ``"/messages/0/content#0-1180"``), or with ``message``
    (index), ``tool`` (index) and ``start`` (character offset) and the ref is
    built for you. A ``text`` field is measured for ``chars`` and not stored.
    Segments are kept in order as the JSON attribute ``orca.prompt.segments``,
    with per-kind totals ``orca.prompt.chars.<kind>``.
    """
    out: list[dict[str, Any]] = []
    totals: dict[str, int] = {}
    for i, seg in enumerate(segments):
        out.append(_segment(i, seg))
    for seg in out:
        totals[seg["kind"]] = totals.get(seg["kind"], 0) + seg["chars"]
    record: dict[str, object] = {
        "orca.prompt.segments": _dumps(out),
        "orca.prompt.segment_count": len(out),
        "orca.prompt.chars": sum(totals.values()),
    }
    for kind, chars in totals.items():
        record[f"orca.prompt.chars.{kind}"] = chars
    if attrs:
        record.update(attrs)
    child = span.child(PROMPT_ASSEMBLY_SPAN, record)
    child.end()
    return child


def _segment(i: int, seg: Mapping[str, Any]) -> dict[str, Any]:
    contributor, kind = seg.get("contributor"), seg.get("kind")
    if not isinstance(contributor, str) or not contributor:
        raise ValueError(f"segment {i}: 'contributor' must be a non-empty string")
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"segment {i}: 'kind' must be a non-empty string (persona, tool-def, …)")
    text = seg.get("text")
    chars = seg.get("chars", len(text) if isinstance(text, str) else None)
    if isinstance(chars, bool) or not isinstance(chars, int) or chars < 0:
        raise ValueError(f"segment {i}: give 'chars' (a non-negative int) or 'text'")
    out: dict[str, Any] = {"contributor": contributor, "kind": kind, "chars": chars}
    role = seg.get("role")
    if role is not None:
        out["role"] = str(role)
    ref = seg.get("ref")
    if ref is None:
        ref = _ref(seg, chars)
    if ref is not None:
        out["ref"] = str(ref)
    return out


def _ref(seg: Mapping[str, Any], chars: int) -> str | None:
    message, tool, start = seg.get("message"), seg.get("tool"), seg.get("start")
    if isinstance(message, int) and not isinstance(message, bool):
        pointer = f"/messages/{message}/content"
    elif isinstance(tool, int) and not isinstance(tool, bool):
        pointer = f"/tools/{tool}"
    else:
        return None
    if isinstance(start, int) and not isinstance(start, bool):
        return f"{pointer}#{start}-{start + chars}"
    return pointer
