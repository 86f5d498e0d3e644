"""Records written through the capture API read back identical through the journal reader."""

import string
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import orca
from orca.capture import ListSink, Recorder
from orca.testing import journal_records, temp_home

scalars = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)
# Names without secret-shaped substrings: the backstop masking those is tested on its own.
names = st.text(alphabet=string.ascii_letters + "._", min_size=1, max_size=20)
attr_dicts = st.dictionaries(names, scalars, max_size=8)


class Tee:
    """Sends each record to the journal sink and keeps what was sent, for comparison."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sent = ListSink()

    def emit(self, record: dict[str, Any]) -> None:
        self.sent.emit(dict(record))
        self.inner.emit(record)

    def close(self) -> None:
        self.inner.close()


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(attr_dicts, attr_dicts, st.text(max_size=200)), min_size=1, max_size=5))
@example([({"low": -(2**63), "high": 2**63 - 1}, {}, "")])  # both ends of int64 stay ints
def test_round_trip(spans: list[tuple[dict[str, Any], dict[str, Any], str]]) -> None:
    """Whatever attributes and bodies go in come out of the journal unchanged."""
    with temp_home() as home:
        base = orca.Recorder.open(home, heartbeat_s=None)
        tee = Tee(base.sink)
        rec = Recorder(tee)
        log = rec.logger("prop")
        root = log.span("turn")
        for open_attrs, close_attrs, body in spans:
            child = root.child("step", attrs=open_attrs, body=body or None)
            child.log.info(body, attrs=close_attrs)
            child.end(attrs=close_attrs)
        root.end()
        rec.close()
        read = [r for r in journal_records(home) if r["kind"] != "proc"]
    assert read == tee.sent.records


def test_round_trip_of_a_realistic_turn(home: Path) -> None:
    """Unicode, long bodies and every record kind survive the journal byte for byte."""
    rec = orca.Recorder.open(home, heartbeat_s=None)
    log = rec.logger("support-agent")
    with log.span("turn", attrs={"gen_ai.conversation.id": "c-ü"}) as turn:
        with turn.child("step", body="≈ 20 KB prompt " * 1500) as step:
            step.add_link(turn, reason="continues")
            step.log.debug("naïve café ☕")
    rec.close()
    records = journal_records(home)
    assert [r["kind"] for r in records] == [
        "proc",
        "span-open",
        "span-open",
        "link",
        "log",
        "span-close",
        "span-close",
        "proc",
    ]
    assert records[2]["body"] == "≈ 20 KB prompt " * 1500
    assert records[4]["msg"] == "naïve café ☕"
