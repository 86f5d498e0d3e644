"""Validation of decoded records.

Hand-written rather than a pydantic model on purpose: this module sits on the
import path of ``orca.capture`` (which must stay free of pydantic) and on the
collector's per-line path, where a few plain ``type() is`` checks cost less
than building a model. Each failure names the field it found wrong.
"""

from typing import Any, Final, cast

from orca.records._errors import RecordError
from orca.records._schema import KINDS, LEVELS, PROC_EVENTS, STATUSES, VERSION, Record

# str.strip with the hex digits consumes a valid id whole: as fast as a compiled
# regex here, and it keeps ``re`` out of the capture path's imports.
_HEXDIGITS: Final = "0123456789abcdef"
_ZERO_TRACE: Final = "0" * 32
_ZERO_SPAN: Final = "0" * 16
_SCALARS: Final = (str, int, float, bool)
_SCALAR_TYPES: Final = frozenset(_SCALARS)

# kind -> (required fields, optional fields); every record also has v, kind, ts, component.
_COMMON: Final = frozenset({"v", "kind", "ts", "component"})
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
# Precomputed per kind: every field a record of that kind may have, and all it must have.
_ALLOWED: Final = {k: req | opt | _COMMON for k, (req, opt) in _FIELDS.items()}
_REQUIRED: Final = {k: req | _COMMON for k, (req, _) in _FIELDS.items()}
_OTHER_IDS: Final = ("parent", "to_trace", "to_span")


def _bad_id(name: str) -> None:
    digits = 32 if name in ("trace", "to_trace") else 16
    raise RecordError(name, f"must be {digits} lower-case hex digits, not all zero")


def is_trace_id(value: object) -> bool:
    """True for 32 lower-case hex digits that are not all zero (OpenTelemetry's rule)."""
    return (
        type(value) is str
        and len(value) == 32
        and not value.strip(_HEXDIGITS)
        and value != _ZERO_TRACE
    )


def is_span_id(value: object) -> bool:
    """True for 16 lower-case hex digits that are not all zero (OpenTelemetry's rule)."""
    return (
        type(value) is str
        and len(value) == 16
        and not value.strip(_HEXDIGITS)
        and value != _ZERO_SPAN
    )


def _is_int(value: object) -> bool:
    return type(value) is int


def validate(obj: object) -> Record:
    """Return ``obj`` typed as a record, or raise :class:`RecordError` naming the field.

    The collector calls this once per journal line, so the common case (a valid
    record) is a handful of set operations and type checks; working out *which*
    field is wrong happens only once something is.
    """
    if not isinstance(obj, dict):
        raise RecordError("", f"a record is a JSON object, got {type(obj).__name__}")
    kind: str = obj.get("kind")  # type: ignore[assignment]  # checked on the next lines
    allowed = _ALLOWED.get(kind) if type(kind) is str else None
    if allowed is None or not allowed.issuperset(obj) or not _REQUIRED[kind].issubset(obj):
        _explain_fields(obj)
    v = obj["v"]
    if type(v) is not int or v < 1:
        raise RecordError("v", f"version must be a positive integer, got {v!r}")
    if v > VERSION:
        raise RecordError("v", f"version {v} is newer than this ORCA reads ({VERSION}); upgrade")
    ts = obj["ts"]
    if type(ts) is not int or ts < 0:
        raise RecordError("ts", f"timestamp must be non-negative Unix nanoseconds, got {ts!r}")
    component = obj["component"]
    if type(component) is not str or not component:
        raise RecordError("component", "must be a non-empty string")
    if kind != "proc":
        trace = obj.get("trace")
        if trace is not None or "trace" in obj:
            if (
                type(trace) is not str
                or len(trace) != 32
                or trace.strip(_HEXDIGITS)
                or trace == _ZERO_TRACE
            ):
                _bad_id("trace")
            span = obj.get("span")
            if span is None and "span" not in obj:
                raise RecordError("span", "trace and span go together")
            if (
                type(span) is not str
                or len(span) != 16
                or span.strip(_HEXDIGITS)
                or span == _ZERO_SPAN
            ):
                _bad_id("span")
        if kind != "span-close" and kind != "log":
            for name in _OTHER_IDS:
                if name in obj:
                    value = obj[name]
                    check = is_trace_id if name == "to_trace" else is_span_id
                    if not check(value):
                        _bad_id(name)
    attrs = obj.get("attrs")
    if attrs is not None or "attrs" in obj:
        if type(attrs) is not dict:
            raise RecordError("attrs", "must be an object of flat scalars")
        for value in attrs.values():
            if type(value) not in _SCALAR_TYPES:
                _check_attrs(attrs)
                break
        if "" in attrs:
            raise RecordError("attrs", "attribute names must be non-empty")
    _KIND_CHECKS[kind](obj)
    return cast(Record, obj)


def _explain_fields(obj: dict[str, Any]) -> None:
    """Raise the error that says which field is missing, unknown or of an unknown kind."""
    for name in ("v", "kind", "ts", "component"):
        if name not in obj:
            raise RecordError(name, "missing required field")
    kind = obj["kind"]
    if type(kind) is not str or kind not in _FIELDS:
        raise RecordError("kind", f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    for name in sorted(_FIELDS[kind][0]):
        if name not in obj:
            raise RecordError(name, f"missing required field for kind {kind!r}")
    for name in obj:
        if name not in _ALLOWED[kind]:
            raise RecordError(name, f"unknown field for kind {kind!r}")


def _check_attrs(attrs: dict[str, Any]) -> None:
    for key, value in attrs.items():
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
    if "body" in obj and type(obj["body"]) is not str:
        raise RecordError("body", "must be a string")
    if "body_enc" in obj:
        if obj["body_enc"] != "base64":
            raise RecordError("body_enc", "the only body encoding is 'base64'")
        if "body" not in obj:
            raise RecordError("body_enc", "given without a body")


def _check_log(obj: dict[str, Any]) -> None:
    if obj["level"] not in LEVELS:
        raise RecordError("level", f"must be one of {', '.join(LEVELS)}, got {obj['level']!r}")
    if type(obj["msg"]) is not str:
        raise RecordError("msg", "must be a string")
    if ("span" in obj) != ("trace" in obj):
        raise RecordError("span" if "trace" in obj else "trace", "trace and span go together")


def _check_open(obj: dict[str, Any]) -> None:
    name = obj["name"]
    if type(name) is not str or not name:
        raise RecordError("name", "must be a non-empty string")
    if "body" in obj or "body_enc" in obj:
        _check_body(obj)


def _check_close(obj: dict[str, Any]) -> None:
    if obj["status"] not in STATUSES:
        raise RecordError("status", f"must be one of {', '.join(STATUSES)}, got {obj['status']!r}")
    if "body" in obj or "body_enc" in obj:
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
