"""Validation rejects malformed records with a message naming the field."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orca.records import RecordError, dumps, is_span_id, is_trace_id, loads, validate

TRACE = "01a0c4506c00a6a36513270e269e0d37"
SPAN = "f2a74de452e6b438"


def _open(**over: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "v": 1,
        "kind": "span-open",
        "ts": 1,
        "component": "c",
        "trace": TRACE,
        "span": SPAN,
        "name": "step",
        "attrs": {"a": 1},
    }
    rec.update(over)
    return {k: v for k, v in rec.items() if v is not ...}


@pytest.mark.parametrize(
    ("record", "field", "fragment"),
    [
        (_open(v=...), "v", "missing"),
        (_open(v=2), "v", "newer"),
        (_open(v="1"), "v", "positive integer"),
        (_open(kind="span"), "kind", "unknown kind"),
        (_open(kind=["span-open"]), "kind", "unknown kind"),
        (_open(ts=-1), "ts", "nanoseconds"),
        (_open(ts=1.5), "ts", "nanoseconds"),
        (_open(component=""), "component", "non-empty"),
        (_open(trace="ABC"), "trace", "32 lower-case hex"),
        (_open(trace="0" * 32), "trace", "not all zero"),
        (_open(span="f2a74de452e6b43"), "span", "16 lower-case hex"),
        (_open(parent="zz" * 8), "parent", "16 lower-case hex"),
        (_open(name=...), "name", "missing"),
        (_open(name=""), "name", "non-empty"),
        (_open(attrs={"a": {"b": 1}}), "attrs.a", "flat scalars"),
        (_open(attrs={"a": [1]}), "attrs.a", "flat scalars"),
        (_open(attrs={"a": None}), "attrs.a", "flat scalars"),
        (_open(attrs=[1]), "attrs", "object"),
        (_open(body=3), "body", "string"),
        (_open(body_enc="hex", body="x"), "body_enc", "base64"),
        (_open(status="ok"), "status", "unknown field"),
        (
            {
                "v": 1,
                "kind": "span-close",
                "ts": 1,
                "component": "c",
                "trace": TRACE,
                "span": SPAN,
                "status": "fine",
            },
            "status",
            "one of ok, error",
        ),
        (
            {"v": 1, "kind": "log", "ts": 1, "component": "c", "level": "trace", "msg": "m"},
            "level",
            "one of debug",
        ),
        (
            {
                "v": 1,
                "kind": "log",
                "ts": 1,
                "component": "c",
                "level": "info",
                "msg": "m",
                "trace": TRACE,
            },
            "span",
            "go together",
        ),
        (
            {
                "v": 1,
                "kind": "link",
                "ts": 1,
                "component": "c",
                "trace": TRACE,
                "span": SPAN,
                "to_trace": TRACE,
            },
            "to_span",
            "missing",
        ),
        (
            {"v": 1, "kind": "proc", "ts": 1, "component": "c", "event": "boot", "pid": 1},
            "event",
            "one of start",
        ),
        (
            {"v": 1, "kind": "proc", "ts": 1, "component": "c", "event": "start", "pid": -1},
            "pid",
            "non-negative",
        ),
        (
            {
                "v": 1,
                "kind": "proc",
                "ts": 1,
                "component": "c",
                "event": "start",
                "pid": 1,
                "argv": "python x.py",
            },
            "argv",
            "list of strings",
        ),
    ],
)
def test_invalid_record_names_the_field(record: dict[str, Any], field: str, fragment: str) -> None:
    """Each malformed record raises RecordError whose field and message say what is wrong."""
    with pytest.raises(RecordError) as info:
        validate(record)
    assert info.value.field == field
    assert fragment in str(info.value)


@pytest.mark.parametrize("line", [b"", b"{", b"[1,2]", b'"span"', b"\xff\xfe"])
def test_loads_rejects_non_records(line: bytes) -> None:
    """Lines that are not JSON objects are rejected as a whole (field '')."""
    with pytest.raises(RecordError) as info:
        loads(line)
    assert info.value.field == ""


def test_valid_records_pass() -> None:
    """A well-formed record of each shape validates and comes back unchanged."""
    rec = _open(parent=SPAN, body="hello", attrs={"s": "x", "i": 1, "f": 0.5, "b": True})
    assert validate(rec) is rec
    assert loads(dumps(rec)) == rec  # type: ignore[arg-type]


@given(st.text(alphabet="0123456789abcdef", min_size=32, max_size=32))
def test_trace_ids(candidate: str) -> None:
    """32 lower-case hex digits are a trace id unless all zero."""
    assert is_trace_id(candidate) == (candidate != "0" * 32)
    assert not is_span_id(candidate)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
field_names = st.sampled_from(
    [
        "v",
        "kind",
        "ts",
        "component",
        "trace",
        "span",
        "parent",
        "name",
        "attrs",
        "body",
        "body_enc",
        "status",
        "level",
        "msg",
        "to_trace",
        "to_span",
        "reason",
        "event",
        "pid",
        "argv",
        "extra",
    ]
)


@given(st.dictionaries(field_names, json_values | st.sampled_from([1, "span-open", TRACE, SPAN])))
def test_validate_never_fails_any_other_way(obj: dict[str, Any]) -> None:
    """Whatever a line decodes to, validate either accepts it or raises RecordError."""
    try:
        validate(obj)
    except RecordError as exc:
        assert exc.field == "" or exc.field.split(".")[0] in obj or "missing" in exc.reason
