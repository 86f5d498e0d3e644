"""Validation of decoded records.

Hand-written rather than a pydantic model on purpose: this module sits on the
import path of ``orca.capture`` (which must stay free of pydantic) and on the
collector's per-line path, where a few plain ``type() is`` checks cost less
than building a model. Each failure names the field it found wrong.
"""

from typing import Any, Final, cast

from orca.records._errors import RecordError
from orca.records._schema import KINDS, LEVELS, PROC_EVENTS, STATUSES, VERSION, Record

_HEX: Final = frozenset("0123456789abcdef")
_SCALARS: Final = (str, int, float, bool)

# kind -> (required fields, optional fields); every record also has v, kind, ts, component.
_COMMON: Final = ("v", "kind", "ts", "component")
_FIELDS: Final[dict[str, tuple[frozenset[str], frozenset[str]]]] = {
    "log": (frozenset({"level", "msg"}), frozenset({"trace", "span", "attrs"})),
    "span-open": (
        frozenset({"trace", "span", "name"}),
        frozenset({"parent", "attrs", "body", "body_enc"}),
    ),
    "span-close": (
        frozenset({"trace", "span", "status"}),
        frozenset({"attrs", "body", "body_enc"}),
    ),
    "link": (
        frozenset({"trace", "span", "to_trace", "to_span"}),
        frozenset({"reason", "attrs"}),
    ),
    "proc": (
        frozenset({"event", "pid"}),
        frozenset({"pstart", "host", "argv", "version", "seq", "dropped", "attrs"}),
    ),
}
_TRACE_FIELDS: Final = ("trace", "to_trace")
_SPAN_FIELDS: Final = ("span", "parent", "to_span")


def is_trace_id(value: object) -> bool:
    """True for 32 lower-case hex digits that are not all zero (OpenTelemetry's rule)."""
    return _is_id(value, 32)


def is_span_id(value: object) -> bool:
    """True for 16 lower-case hex digits that are not all zero (OpenTelemetry's rule)."""
    return _is_id(value, 16)


def _is_id(value: object, length: int) -> bool:
    return (
        type(value) is str
        and len(value) == length
        and _HEX.issuperset(value)
        and value != "0" * length
    )


def _is_int(value: object) -> bool:
    return type(value) is int


def validate(obj: object) -> Record:
    """Return ``obj`` typed as a record, or raise :class:`RecordError` naming the field."""
    if not isinstance(obj, dict):
        raise RecordError("", f"a record is a JSON object, got {type(obj).__name__}")
    for name in _COMMON:
        if name not in obj:
            raise RecordError(name, "missing required field")
    v = obj["v"]
    if not _is_int(v) or v < 1:
        raise RecordError("v", f"version must be a positive integer, got {v!r}")
    if v > VERSION:
        raise RecordError("v", f"version {v} is newer than this ORCA reads ({VERSION}); upgrade")
    kind = obj["kind"]
    if kind not in _FIELDS:
        raise RecordError("kind", f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    ts = obj["ts"]
    if not _is_int(ts) or ts < 0:
        raise RecordError("ts", f"timestamp must be non-negative Unix nanoseconds, got {ts!r}")
    component = obj["component"]
    if type(component) is not str or not component:
        raise RecordError("component", "must be a non-empty string")

    required, optional = _FIELDS[kind]
    for name in required:
        if name not in obj:
            raise RecordError(name, f"missing required field for kind {kind!r}")
    for name in obj:
        if name not in required and name not in optional and name not in _COMMON:
            raise RecordError(name, f"unknown field for kind {kind!r}")

    for name in _TRACE_FIELDS:
        if name in obj and not is_trace_id(obj[name]):
            raise RecordError(name, "must be 32 lower-case hex digits, not all zero")
    for name in _SPAN_FIELDS:
        if name in obj and not is_span_id(obj[name]):
            raise RecordError(name, "must be 16 lower-case hex digits, not all zero")
    if "attrs" in obj:
        _check_attrs(obj["attrs"])
    _KIND_CHECKS[kind](obj)
    return cast(Record, obj)


def _check_attrs(attrs: object) -> None:
    if not isinstance(attrs, dict):
        raise RecordError("attrs", "must be an object of flat scalars")
    for key, value in attrs.items():
        if not key:
            raise RecordError("attrs", "attribute names must be non-empty")
        if not isinstance(value, _SCALARS):
            raise RecordError(
                f"attrs.{key}",
                f"attribute values are flat scalars (str/int/float/bool), got "
                f"{type(value).__name__}; stringify nested values",
            )


def _check_str(obj: dict[str, Any], name: str, *, allow_empty: bool = True) -> None:
    if name in obj:
        value = obj[name]
        if type(value) is not str or (not allow_empty and not value):
            raise RecordError(
                name, "must be a non-empty string" if not allow_empty else "must be a string"
            )


def _check_body(obj: dict[str, Any]) -> None:
    _check_str(obj, "body")
    if "body_enc" in obj:
        if obj["body_enc"] != "base64":
            raise RecordError("body_enc", "the only body encoding is 'base64'")
        if "body" not in obj:
            raise RecordError("body_enc", "given without a body")


def _check_log(obj: dict[str, Any]) -> None:
    if obj["level"] not in LEVELS:
        raise RecordError("level", f"must be one of {', '.join(LEVELS)}, got {obj['level']!r}")
    _check_str(obj, "msg")
    if ("span" in obj) != ("trace" in obj):
        raise RecordError("span" if "trace" in obj else "trace", "trace and span go together")


def _check_open(obj: dict[str, Any]) -> None:
    _check_str(obj, "name", allow_empty=False)
    _check_body(obj)


def _check_close(obj: dict[str, Any]) -> None:
    if obj["status"] not in STATUSES:
        raise RecordError("status", f"must be one of {', '.join(STATUSES)}, got {obj['status']!r}")
    _check_body(obj)


def _check_link(obj: dict[str, Any]) -> None:
    _check_str(obj, "reason")


def _check_proc(obj: dict[str, Any]) -> None:
    if obj["event"] not in PROC_EVENTS:
        raise RecordError("event", f"must be one of {', '.join(PROC_EVENTS)}, got {obj['event']!r}")
    for name in ("pid", "pstart", "seq", "dropped"):
        if name in obj and (not _is_int(obj[name]) or obj[name] < 0):
            raise RecordError(name, "must be a non-negative integer")
    _check_str(obj, "host")
    _check_str(obj, "version")
    if "argv" in obj:
        argv = obj["argv"]
        if not isinstance(argv, list) or not all(type(a) is str for a in argv):
            raise RecordError("argv", "must be a list of strings")


_KIND_CHECKS: Final = {
    "log": _check_log,
    "span-open": _check_open,
    "span-close": _check_close,
    "link": _check_link,
    "proc": _check_proc,
}
