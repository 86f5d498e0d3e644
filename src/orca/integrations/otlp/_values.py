"""OTLP ``AnyValue`` ↔ ORCA's flat scalar attributes.

ORCA attributes are flat scalars (DESIGN: records); OTLP values may be arrays,
key-value lists or bytes. Scalars map one to one; anything nested becomes its
JSON text (as the capture API stringifies nested values), bytes become base64.
A non-finite double is kept as its name ("NaN", "Infinity"), never dropped.
"""

import base64
import math
from typing import Any

import orjson
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue


def plain(value: AnyValue) -> Any:
    """The Python value of an ``AnyValue`` (nested values as Python structures)."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "bool_value":
        return value.bool_value
    if which == "int_value":
        return value.int_value
    if which == "double_value":
        return value.double_value
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    if which == "array_value":
        return [plain(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: plain(kv.value) for kv in value.kvlist_value.values}
    return None


def scalar(value: AnyValue) -> str | int | float | bool | None:
    """A flat attribute value: scalars as they are, nested values as JSON text."""
    v = plain(value)
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, list | dict):
        return orjson.dumps(v).decode()
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return str(v)


def flat(attrs: "list[KeyValue] | Any") -> dict[str, Any]:
    """OTLP attributes → ORCA's flat attrs (``None`` values left out, as capture does)."""
    out: dict[str, Any] = {}
    for kv in attrs:
        v = scalar(kv.value)
        if v is not None and kv.key:
            out[kv.key] = v
    return out


def any_value(v: Any) -> AnyValue:
    """A flat ORCA attribute value → ``AnyValue``."""
    if isinstance(v, bool):
        return AnyValue(bool_value=v)
    if isinstance(v, int) and -(2**63) <= v < 2**63:
        return AnyValue(int_value=v)
    if isinstance(v, float):
        return AnyValue(double_value=v)
    return AnyValue(string_value=v if isinstance(v, str) else str(v))


def key_values(attrs: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=any_value(v)) for k, v in attrs.items() if v is not None]
