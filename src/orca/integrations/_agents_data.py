"""Reading the OpenAI Agents SDK's span data: duck-typed, whatever the SDK version.

Span data objects differ between SDK versions (and the Responses API model
carries a pydantic ``Response`` where Chat Completions carries plain dicts), so
these helpers read fields by name from either shape and never raise on a
field that is missing.
"""

from collections.abc import Mapping
from typing import Any


def plain(value: Any) -> Any:
    """A JSON-able form of SDK objects (pydantic models, lists of them)."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(exclude_none=True)
        except Exception:
            return str(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


def calls_of(kind: str, data: Any) -> list[tuple[str, str]]:
    """(call id, tool name) of the tool calls a generation or response asked for."""
    out: list[tuple[str, str]] = []
    if kind == "generation":
        for message in get(data, "output") or ():
            for call in get(message, "tool_calls") or ():
                fn = get(call, "function")
                if get(call, "id") and fn is not None:
                    out.append((str(get(call, "id")), str(get(fn, "name") or "")))
    elif kind == "response":
        response = get(data, "response")
        for item in get(response, "output") or ():
            if get(item, "type") == "function_call" and get(item, "call_id"):
                out.append((str(get(item, "call_id")), str(get(item, "name") or "")))
    return out


def usage_attrs(usage: Any, prefix: str) -> dict[str, object]:
    """SDK usage (``input_tokens``, ``output_tokens``, cache counts) under ``prefix``."""
    if usage is None:
        return {}
    out: dict[str, object] = {}
    for key, name in (
        ("input_tokens", "input_tokens"),
        ("output_tokens", "output_tokens"),
        ("cached_input_tokens", "cache_read.input_tokens"),
        ("cache_write_input_tokens", "cache_write.input_tokens"),
    ):
        value = get(usage, key)
        if isinstance(value, int) and not isinstance(value, bool):
            out[f"{prefix}.{name}"] = value
    return out
