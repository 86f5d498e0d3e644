"""Logger and Span as record builders: what each call writes, and what it never does."""

import itertools

import pytest

import orca
from orca.capture import (
    NOOP_SPAN,
    CaptureError,
    IdGenerator,
    ListSink,
    Recorder,
    current_span,
    flat_attrs,
)
from orca.errors import UsageError
from orca.records import validate
from orca.testing import capture_records


def test_the_documented_surface_writes_valid_records() -> None:
    """The README's example produces open/log/link/close records that validate, in call order."""
    with capture_records() as (rec, records):
        log = rec.logger("billing-agent")
        turn = log.span("turn", attrs={"gen_ai.conversation.id": "c1"})
        other = log.span("other")
        step = turn.child("step", attrs={"gen_ai.request.model": "m"}, body="prompt text")
        step.log.info("calling provider", attrs={"attempt": 1})
        step.add_link(other, reason="summoned-by")
        step.end(attrs={"gen_ai.usage.input_tokens": 812})
        turn.end()
    kinds = [(r["kind"], r.get("name")) for r in records]
    assert kinds == [
        ("span-open", "turn"),
        ("span-open", "other"),
        ("span-open", "step"),
        ("log", None),
        ("link", None),
        ("span-close", None),
        ("span-close", None),
    ]
    for r in records:
        validate(r)
        assert r["component"] == "billing-agent"
    step_open = records[2]
    assert step_open["parent"] == turn.span_id and step_open["trace"] == turn.trace_id
    assert step_open["body"] == "prompt text"
    assert records[3]["span"] == step.span_id and records[3]["level"] == "info"
    assert records[4]["to_span"] == other.span_id and records[4]["reason"] == "summoned-by"
    assert records[5]["attrs"] == {"gen_ai.usage.input_tokens": 812}
    assert other.trace_id != turn.trace_id


def test_end_is_written_once() -> None:
    """A second end() is ignored: one close record per span."""
    with capture_records() as (rec, records):
        span = rec.logger("a").span("s")
        span.end()
        span.end(status="error")
    assert [r["kind"] for r in records] == ["span-open", "span-close"]
    assert span.ended


def test_context_manager_closes_with_error_and_reraises() -> None:
    """An exception closes the span with status error, type and message, and propagates."""
    with capture_records() as (rec, records):
        log = rec.logger("a")
        with pytest.raises(KeyError), log.span("turn") as turn:
            assert current_span() is turn
            with turn.child("tool-call") as tool:
                tool.set_attrs({"gen_ai.tool.name": "read_file"})
                raise KeyError("missing.txt")
        assert current_span() is None
    closes = [r for r in records if r["kind"] == "span-close"]
    assert [c["status"] for c in closes] == ["error", "error"]
    assert closes[0]["attrs"] == {
        "gen_ai.tool.name": "read_file",
        "error.type": "KeyError",
        "exception.message": "'missing.txt'",
    }


def test_end_with_error_and_explicit_status() -> None:
    """end(error=exc) and end(status='error') both mark the span failed."""
    with capture_records() as (rec, records):
        log = rec.logger("a")
        log.span("x").end(error=ValueError("bad"))
        log.span("y").end(status="error")
        log.span("z").end()
    assert [r["status"] for r in records if r["kind"] == "span-close"] == ["error", "error", "ok"]


def test_component_is_stamped_not_passed() -> None:
    """Loggers stamp their component on every record, including those of spans and children."""
    with capture_records() as (rec, records):
        a = rec.logger("agent-a")
        b = rec.logger("agent-b")
        s = a.span("turn")
        s.child("step").end()
        b.info("hello")
        s.log.warn("careful")
        s.end()
    assert [r["component"] for r in records] == ["agent-a"] * 3 + ["agent-b"] + ["agent-a"] * 2
    with pytest.raises(CaptureError, match="component must be a non-empty name"):
        rec.logger("")


def test_attributes_are_flattened() -> None:
    """Nested values become JSON strings, None is left out, flat dicts pass through untouched."""
    flat = {"s": "x", "i": 1, "f": 1.5, "b": True}
    assert flat_attrs(flat) is flat
    nested = {"d": {"a": [1, 2]}, "l": [1, "x"], "n": None, "t": (1, 2), "by": b"raw"}
    assert flat_attrs(nested) == {"d": '{"a":[1,2]}', "l": '[1,"x"]', "t": "[1,2]", "by": "raw"}
    with capture_records() as (rec, records):
        rec.logger("a").span("s", attrs={"cfg": {"k": "v"}}).end(attrs={"tags": ["a"]})
    assert records[0]["attrs"] == {"cfg": '{"k":"v"}'}
    assert records[1]["attrs"] == {"tags": '["a"]'}


def test_bytes_bodies_are_kept_verbatim() -> None:
    """UTF-8 bytes are stored as text; other bytes as base64 with body_enc."""
    with capture_records() as (rec, records):
        log = rec.logger("a")
        log.span("u", body="héllo".encode()).end(body=b"\xff\x00")
    assert records[0]["body"] == "héllo"
    assert records[1]["body"] == "/wA=" and records[1]["body_enc"] == "base64"


def test_logger_levels_and_exceptions() -> None:
    """The four levels; error(exc=...) adds the exception's type and message."""
    with capture_records() as (rec, records):
        log = rec.logger("a")
        log.debug("d")
        log.info("i")
        log.warn("w")
        log.error("e", exc=OSError("disk"))
    assert [r["level"] for r in records] == ["debug", "info", "warn", "error"]
    assert records[3]["attrs"] == {"error.type": "OSError", "exception.message": "disk"}
    assert "trace" not in records[0]


def test_ids_are_otel_compatible_and_time_ordered() -> None:
    """Trace ids: 32 hex with a millisecond prefix; span ids: 16 hex; never all-zero."""
    ms = itertools.count(1_700_000_000_000, 5)
    gen = IdGenerator(seed=3, clock_ms=lambda: next(ms))
    traces = [gen.trace_id() for _ in range(1000)]
    assert traces == sorted(traces)
    assert all(len(t) == 32 and int(t, 16) for t in traces)
    assert int(traces[0][:12], 16) == 1_700_000_000_000
    spans = {gen.span_id() for _ in range(10_000)}
    assert len(spans) == 10_000 and all(len(s) == 16 and int(s, 16) for s in spans)
    # Span ids lead with 8 bits of coarse time (ns >> 34): ids of one ~17 s window share
    # their first two digits, so a store's span-id index fills one region at a time.
    ts = 1_790_000_000_000_000_000
    assert {gen.span_id(ts)[:2] for _ in range(100)} == {f"{(ts >> 34) & 0xFF:02x}"}
    assert gen.span_id(ts + (1 << 34))[:2] == f"{((ts >> 34) + 1) & 0xFF:02x}"
    assert gen.span_id(0) != "0" * 16


def test_disabled_recorder_returns_the_shared_noop(home: object) -> None:
    """With recording off, span() is the shared no-op and nothing is written anywhere."""
    rec = Recorder.open(home, enabled=False)  # type: ignore[arg-type]
    log = rec.logger("a")
    span = log.span("turn", attrs={"x": 1})
    assert span is NOOP_SPAN
    assert span.child("step") is NOOP_SPAN
    with span as s:
        s.log.info("nothing")
        s.add_link(span)
        s.set_attrs({"a": 1})
    span.end()
    rec.close()
    assert not (home / "journal").exists()  # type: ignore[operator]


def test_disabled_by_environment(home: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """ORCA_DISABLED=1 turns recording off without a code change."""
    monkeypatch.setenv("ORCA_DISABLED", "1")
    rec = orca.Recorder.open(home)  # type: ignore[arg-type]
    assert rec.logger("a").span("x") is NOOP_SPAN


def test_recorder_uses_orca_home(home: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """Recorder.open() with no argument records under $ORCA_HOME."""
    monkeypatch.setenv("ORCA_HOME", str(home))
    rec = orca.Recorder.open(heartbeat_s=None)
    rec.logger("a").span("x").end()
    rec.close()
    assert rec.home == home
    assert len(list((home / "journal").iterdir())) == 1  # type: ignore[operator]


def test_list_sink_records_in_order() -> None:
    """ListSink is the in-memory sink tests and embedders use."""
    sink = ListSink()
    rec = Recorder(sink)
    rec.logger("a").info("x")
    assert sink.records[0]["msg"] == "x"


def test_capture_error_is_an_orca_usage_error_and_a_value_error() -> None:
    """A refused capture argument is caught as OrcaError (the CLI's one line) and as ValueError."""
    with capture_records() as (rec, _):
        with pytest.raises(orca.OrcaError) as caught:
            rec.logger("")
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, UsageError)
