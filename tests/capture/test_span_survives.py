"""Item 4 (and the status part of 16): whatever a caller passes, the span survives."""

import math
import warnings
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca.capture import Recorder
from orca.collector import Collector, CollectorConfig
from orca.store import open_store
from orca.testing import temp_home


def _collect(home: Path) -> None:
    cfg = CollectorConfig(search_every_s=1e9, prune_every_s=1e9, journal_gc_every_s=1e9)
    with Collector(home, cfg) as c:
        c.drain()


def _spans(home: Path) -> dict[str, Any]:
    store = open_store(home)
    try:
        quarantined = store.quarantine()
        assert quarantined == [], quarantined
        out = {}
        for t in store.list_traces():
            rows = store.get_trace(t.trace_id)
            assert rows is not None
            out.update({s.span_id: s for s in rows.spans})
        return out
    finally:
        store.close()


def test_item04_nonfinite_attributes_keep_the_span(home: Path) -> None:
    """NaN and ±inf are recorded as strings; the span, its log and its status survive."""
    with Recorder.open(home, heartbeat_s=None) as rec:
        span = rec.logger("t").span("turn", attrs={"a": math.nan, "ok": 1.5})
        span.log.info("in the span", attrs={"b": math.inf})
        span.end(attrs={"c": -math.inf})
        assert rec.dropped == 0
    _collect(home)
    row = _spans(home)[span.span_id]
    assert row.name == "turn" and row.status == "ok"
    assert row.attrs["a"] == "NaN" and row.attrs["c"] == "-Infinity" and row.attrs["ok"] == 1.5


def test_item04_oversize_body_is_truncated_not_lost(home: Path) -> None:
    """A 10 MB body is kept up to the record limit and the span says how much was cut."""
    with Recorder.open(home, heartbeat_s=None, max_record_bytes=1 << 20) as rec:
        span = rec.logger("t").span("turn", body="x" * 10_000_000)
        span.end()
        assert rec.dropped == 0
    _collect(home)
    row = _spans(home)[span.span_id]
    cut = row.attrs["orca.body.truncated_bytes"]
    assert isinstance(cut, int) and 8_900_000 < cut < 10_000_000
    assert row.request_body_bytes + cut == 10_000_000


def test_item04_bad_names_are_recorded(home: Path) -> None:
    """`span(123)` is recorded as "123", `span("")` as "(unnamed)"."""
    with Recorder.open(home, heartbeat_s=None) as rec:
        log = rec.logger("t")
        a = log.span(123)  # type: ignore[arg-type]
        b = a.child("")
        b.end()
        a.end()
    _collect(home)
    spans = _spans(home)
    assert spans[a.span_id].name == "123" and spans[b.span_id].name == "(unnamed)"


def test_item16_unknown_status_is_an_error_with_detail(home: Path) -> None:
    """`end(status="failed")` records status error and keeps the word as orca.status.detail."""
    with Recorder.open(home, heartbeat_s=None) as rec:
        span = rec.logger("t").span("turn")
        span.end(status="failed")
    _collect(home)
    row = _spans(home)[span.span_id]
    assert row.status == "error" and row.attrs["orca.status.detail"] == "failed"


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.lists(st.floats(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.floats(), max_size=2),
)
_names = st.one_of(st.text(max_size=10), st.integers(), st.none(), st.floats())
_bodies = st.one_of(st.none(), st.text(max_size=50), st.binary(max_size=50), st.integers())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spans=st.lists(
        st.tuples(_names, st.dictionaries(st.text(max_size=5), _values, max_size=4), _bodies),
        min_size=1,
        max_size=4,
    ),
    status=st.sampled_from([None, "ok", "error", "failed", ""]),
)
def test_item04_every_opened_span_reaches_the_store(
    spans: list[tuple[Any, dict[str, Any], Any]], status: str | None
) -> None:
    """Arbitrary names, attribute values and bodies: every span is stored, named, with status."""
    with temp_home() as home, warnings.catch_warnings():
        warnings.simplefilter("error")  # a drop would warn: none may happen
        with Recorder.open(home, heartbeat_s=None) as rec:
            log = rec.logger("prop")
            made = []
            for name, attrs, body in spans:
                span = log.span(name, attrs=attrs, body=body)
                span.log.info("x", attrs=attrs)
                span.end(attrs=attrs, status=status)
                made.append(span)
            assert rec.dropped == 0
        _collect(home)
        stored = _spans(home)
        for span in made:
            row = stored[span.span_id]
            assert row.name == (str(span.name) or "(unnamed)")
            assert row.status == ("ok" if status in (None, "ok") else "error")
