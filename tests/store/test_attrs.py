"""Span attributes packed with a trained dictionary: round trips, merges, search, migration."""

import dataclasses
import shutil
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca.store import RetentionPolicy, SQLiteStore, items_from, migrate
from orca.store._attrs import TRAIN_AFTER, varint
from orca.store._batch import Quarantine
from orca.store._schema import SCHEMA_VERSION
from orca.testing import temp_home

GOLDEN = Path(__file__).parent / "golden"
T0 = 1_750_000_000_000_000_000
MODELS = ["gpt-4o", "claude-sonnet", "llama-3"]


def _open(i: int, attrs: dict[str, Any] | None, name: str = "step") -> dict[str, Any]:
    rec: dict[str, Any] = {
        "v": 1,
        "kind": "span-open",
        "ts": T0 + i,
        "trace": f"{i // 10:032x}",
        "span": f"{i + 1:016x}",
        "name": name,
        "component": "agent",
    }
    if attrs is not None:
        rec["attrs"] = attrs
    return rec


def _close(i: int, attrs: dict[str, Any] | None) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "v": 1,
        "kind": "span-close",
        "ts": T0 + i + 5,
        "trace": f"{i // 10:032x}",
        "span": f"{i + 1:016x}",
        "status": "ok",
        "component": "agent",
    }
    if attrs is not None:
        rec["attrs"] = attrs
    return rec


def _agent_attrs(i: int) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": MODELS[i % 3],
        "gen_ai.conversation.id": f"conv-{i // 13}",
        "orca.turn": i % 13,
    }


def _trained(store: SQLiteStore, start: int = 0) -> int:
    """Fill ``store`` with enough spans that the attributes' dictionary is trained; next index."""
    records = [r for i in range(start, start + TRAIN_AFTER) for r in (_open(i, _agent_attrs(i)),)]
    store.apply(items_from(records, f"train-{start}"))
    store.apply(items_from([_open(start + TRAIN_AFTER, _agent_attrs(0))], f"kick-{start}"))
    return start + TRAIN_AFTER + 1


def _kinds(store: SQLiteStore) -> dict[str, int]:
    return dict(store._conn.execute("SELECT typeof(attrs), count(*) FROM spans GROUP BY 1"))


def _attrs_of(store: SQLiteStore, i: int) -> dict[str, Any]:
    span = store.get_span(f"{i + 1:016x}")
    assert span is not None
    return span.attrs


def test_attrs_are_packed_once_a_dictionary_is_trained(home: Path) -> None:
    """Below TRAIN_AFTER spans attrs stay JSON text; after it, blobs far smaller, read back."""
    with SQLiteStore.open(home) as store:
        nxt = _trained(store)
        n = nxt + 200
        store.apply(items_from([_open(i, _agent_attrs(i)) for i in range(nxt, n)], "after"))
        kinds = _kinds(store)
        assert kinds["text"] == TRAIN_AFTER and kinds["blob"] == 201
        packed, text = store._conn.execute(
            "SELECT avg(length(attrs)) FROM spans GROUP BY typeof(attrs) ORDER BY 1"
        ).fetchall()
        assert packed[0] < 0.5 * text[0]
        for i in (0, nxt, n - 1):
            assert _attrs_of(store, i) == _agent_attrs(i if i != TRAIN_AFTER else 0)
        [(kind,)] = store._conn.execute("SELECT kind FROM zstd_dicts").fetchall()
        assert kind == "attrs"
        blob = store._conn.execute(
            "SELECT attrs FROM spans WHERE typeof(attrs) = 'blob'"
        ).fetchone()
        assert blob[0].startswith(varint(1))  # the header names the dictionary's row


_scalar = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)
_value = st.recursive(
    _scalar,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
_attrs_strategy = st.dictionaries(st.text(min_size=1, max_size=20), _value, min_size=1, max_size=8)


@pytest.fixture(scope="module")
def trained_home() -> Any:
    """One home whose store has its attributes' dictionary (training takes a while)."""
    with temp_home() as path:
        with SQLiteStore.open(path) as store:
            _trained(store)
        yield path


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attrs=st.lists(_attrs_strategy, min_size=1, max_size=5))
def test_any_json_object_round_trips_before_and_after_training(
    trained_home: Path, attrs: list[dict[str, Any]]
) -> None:
    """Any JSON object of scalars and nested values reads back equal, packed or as text."""
    with temp_home() as fresh:
        for where in (fresh, trained_home):
            with SQLiteStore.open(where) as store:
                base = 10**6 + store.totals().spans
                store.apply(
                    items_from([_open(base + k, a) for k, a in enumerate(attrs)], f"h{base}")
                )
                for k, a in enumerate(attrs):
                    assert _attrs_of(store, base + k) == a


def test_text_and_blob_rows_read_side_by_side(home: Path) -> None:
    """A trace with rows written before and after training reads every span's attrs."""
    with SQLiteStore.open(home) as store:
        nxt = _trained(store)
        # spans 0..9 (text) and a new one in the same trace (blob: trace id is i // 10)
        late = {"gen_ai.request.model": "gpt-4o", "note": "late"}
        rec = {**_open(nxt, late), "trace": f"{0:032x}"}
        store.apply(items_from([rec], "late"))
        rows = store.get_trace(f"{0:032x}")
        assert rows is not None
        got = {s.span_id: s.attrs for s in rows.spans}
        assert got[f"{nxt + 1:016x}"] == late
        assert got[f"{1:016x}"] == _agent_attrs(0)
        assert _kinds(store)["blob"] >= 1


def test_open_and_close_merge_across_batches_with_packed_values(home: Path) -> None:
    """An open and its close in different batches merge (close wins), stored packed again."""
    with SQLiteStore.open(home) as store:
        nxt = _trained(store)
        a, b = nxt, nxt + 1
        opened, closed = _agent_attrs(a), {"gen_ai.request.model": "claude", "tokens": 7}
        store.apply(items_from([_open(a, opened)], "o1"))
        store.apply(items_from([_close(a, closed)], "c1"))
        # the close first, the open later: the close's values still win
        store.apply(items_from([_close(b, closed)], "c2"))
        store.apply(items_from([_open(b, _agent_attrs(b))], "o2"))
        assert _attrs_of(store, a) == {**opened, **closed}
        assert _attrs_of(store, b) == {**_agent_attrs(b), **closed}
        kinds = store._conn.execute(
            "SELECT typeof(attrs) FROM spans WHERE span_id IN (?, ?)",
            (bytes.fromhex(f"{a + 1:016x}"), bytes.fromhex(f"{b + 1:016x}")),
        ).fetchall()
        assert kinds == [("blob",), ("blob",)]


def test_search_finds_and_forgets_packed_attrs(home: Path) -> None:
    """Search hits a word in packed attrs, follows a merge, and forgets it on prune."""
    with SQLiteStore.open(home) as store:
        nxt = _trained(store)
        store.apply(items_from([_open(nxt, {"topic": "wombat parcel"}, name="tool-call")], "w"))
        store.catch_up_search()
        [hit] = store.search("wombat")
        assert hit.where == "attrs" and hit.snippet == "tool-call topic [wombat] parcel"
        # an indexed span changed by its close: the old text leaves, the new one is found
        store.apply(items_from([_close(nxt, {"topic": "quokka parcel"})], "q"))
        store.catch_up_search()
        assert store.search("wombat") == []
        assert [h.span_id for h in store.search("quokka")] == [f"{nxt + 1:016x}"]
        store.prune(RetentionPolicy(timedelta(0), None), now_ns=2**62)
        assert store.search("quokka") == [] and store.search("parcel") == []
        assert store.totals().spans == 0


def test_a_schema_5_store_migrates_and_reads_the_same(
    home: Path, reader_view: Callable[..., dict[str, Any]]
) -> None:
    """The fixture written by schema 5's code opens as 6: identical reads; new attrs packed."""
    shutil.copyfile(GOLDEN / "store_v5.sqlite", home / "store.sqlite")
    want = orjson.loads((GOLDEN / "store_v4.json").read_bytes())  # the same records
    with SQLiteStore.open(home) as store:
        assert store._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert orjson.loads(orjson.dumps(reader_view(store, list(want["search"])))) == want
        _trained(store, start=10**5)
        assert _kinds(store)["text"] > TRAIN_AFTER  # old rows were not rewritten
        for trace in want["traces"]:  # beside packed rows, the old ones read the same
            rows = store.get_trace(trace["summary"]["trace_id"])
            assert orjson.loads(orjson.dumps(dataclasses.asdict(rows))) == trace
        for q in ("quokka", "lookup_order", "refund"):
            got = [dataclasses.asdict(h) for h in store.search(q)]
            assert orjson.loads(orjson.dumps(got)) == want["search"][q]
        # deletes of old (text) rows still reach the index through the new triggers
        [pinned] = [t["summary"]["trace_id"] for t in want["traces"] if t["summary"]["pinned"]]
        store.prune(RetentionPolicy(timedelta(0), None), now_ns=2**62)
        assert {h.trace_id for h in store.search("lookup_order")} == {pinned}


def test_a_reader_opened_read_only_decodes_packed_attrs(home: Path) -> None:
    """A read-only store (another process's view) reads packed attrs through its own codec."""
    with SQLiteStore.open(home) as store:
        nxt = _trained(store)
    with SQLiteStore.open(home, readonly=True) as reader:
        assert _attrs_of(reader, nxt - 1) == _agent_attrs(0)  # the span that was packed
    conn = sqlite3.connect(home / "store.sqlite")
    assert conn.execute("SELECT count(*) FROM spans WHERE typeof(attrs) = 'blob'").fetchone()[0]
    conn.close()


def test_a_rolled_back_training_leaves_every_row_readable(home: Path) -> None:
    """A batch that trained the attrs dictionary and failed leaves no row naming a lost one."""
    with SQLiteStore.open(home) as store:
        store.apply(items_from([_open(i, _agent_attrs(i)) for i in range(TRAIN_AFTER)], "a"))
        records = [_open(i, _agent_attrs(i)) for i in range(TRAIN_AFTER, TRAIN_AFTER + 30)]
        bad = items_from(records, "b")
        # a line quarantined from a source with no offset: fails after the spans are written
        bad.quarantined.append(Quarantine("nowhere", 0, 1, "bad", b"x"))
        with pytest.raises(KeyError):
            store.apply(bad)
        assert store._conn.execute("SELECT count(*) FROM zstd_dicts").fetchone()[0] == 0
        store.apply(items_from(records, "b"))
        assert _kinds(store) == {"text": TRAIN_AFTER, "blob": 30}
        for i in range(TRAIN_AFTER + 30):
            assert _attrs_of(store, i) == _agent_attrs(i)


def test_migrate_copies_packed_attrs_through_the_row_readers(home: Path, tmp_path: Path) -> None:
    """`orca migrate` reads packed attrs as dicts, so the copy has the same attributes."""
    with SQLiteStore.open(home) as src:
        nxt = _trained(src)
        want = {t.trace_id: src.get_trace(t.trace_id) for t in src.list_traces(limit=None)}
        with SQLiteStore.open(tmp_path / "copy.sqlite") as dst:
            result = migrate(src, dst)
            assert result.traces == len(want) and result.ok
            for trace_id, rows in want.items():
                got = dst.get_trace(trace_id)
                assert rows is not None and got is not None
                assert [s.attrs for s in got.spans] == [s.attrs for s in rows.spans]
            assert _attrs_of(dst, nxt - 1) == _agent_attrs(0)
