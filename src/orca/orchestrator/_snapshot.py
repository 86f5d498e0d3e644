"""Snapshots and replay: the state rebuilt from the ledger, a snapshot bounding the work.

A snapshot is the state's canonical view plus the ledger entry it covers
(id, hash and byte offset). It is written to a temporary file, fsync'd,
renamed over ``<home>/orchestrator/snapshot.json`` and the directory fsync'd,
so a crash leaves the old snapshot or the new one, never half of one.

Opening reads the snapshot, checks that the ledger still holds that entry
with that hash at that offset, and replays only the entries after it. A
snapshot that does not match (the ledger was replaced, truncated, or the
snapshot is from another home) is ignored with a :class:`SnapshotIgnored`
warning and the whole ledger is replayed: the ledger is the truth.
"""

import heapq
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from orca.ledger import Entry, read_entries
from orca.orchestrator._model import TERMINAL
from orca.orchestrator._state import Applied, RunState, State, TaskState

SNAPSHOT_DIR: Final = "orchestrator"
SNAPSHOT_FILE: Final = "snapshot.json"
SNAPSHOT_VERSION: Final = 1


class SnapshotIgnored(UserWarning):
    """The snapshot did not match the ledger; the state was rebuilt by a full replay."""


@dataclass(frozen=True, slots=True)
class Replayed:
    """What opening did: how many entries it replayed, and from a snapshot or not."""

    state: State
    entries: int
    from_snapshot: bool
    last: Entry | None
    run_offsets: dict[str, int]


def snapshot_path(home: Path) -> Path:
    return home / SNAPSHOT_DIR / SNAPSHOT_FILE


def write_snapshot(home: Path, state: bytes, entry: Entry) -> Path:
    """Atomically replace the snapshot with ``state`` (``encode_state``) at ``entry``."""
    path = snapshot_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    head = orjson.dumps(
        {
            "v": SNAPSHOT_VERSION,
            "entry_id": entry.id,
            "entry_hash": entry.hash,
            "entry_offset": entry.offset,
        }
    )
    data = head[:-1] + b',"state":' + state + b"}"
    # Per thread, not just per process: submitters on several threads may each reach the
    # snapshot cadence, and a shared temp file would be truncated or renamed under the other.
    tmp = path.with_name(f".{SNAPSHOT_FILE}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return path


def _load(home: Path) -> dict[str, Any] | None:
    path = snapshot_path(home)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        data = orjson.loads(raw)
        if not isinstance(data, dict) or data.get("v") != SNAPSHOT_VERSION:
            raise ValueError(f"version {data.get('v') if isinstance(data, dict) else '?'}")
        int(data["entry_id"])
        int(data["entry_offset"])
        str(data["entry_hash"])
        dict(data["state"])
    except (ValueError, KeyError, TypeError) as exc:
        warnings.warn(
            f"orchestrator snapshot {path} is unreadable ({exc}); replaying the whole ledger",
            SnapshotIgnored,
            stacklevel=3,
        )
        return None
    return data


def replay(home: Path, ledger_file: Path, *, use_snapshot: bool = True) -> Replayed:
    """The state from the snapshot (when it matches the ledger) plus the ledger after it."""
    snap = _load(home) if use_snapshot else None
    if snap is not None:
        tail = read_entries(ledger_file, snap["entry_offset"]).entries
        first = tail[0] if tail else None
        if first is not None and first.id == snap["entry_id"] and first.hash == snap["entry_hash"]:
            try:
                state = decode_state(snap["state"])
            except (KeyError, TypeError, ValueError) as exc:
                warnings.warn(
                    f"orchestrator snapshot does not fit this ORCA ({exc}); "
                    "replaying the whole ledger",
                    SnapshotIgnored,
                    stacklevel=2,
                )
            else:
                return _fold(state, tail[1:], True, first)
        else:
            warnings.warn(
                f"orchestrator snapshot covers ledger entry {snap['entry_id']} which the ledger "
                "does not hold as recorded; replaying the whole ledger",
                SnapshotIgnored,
                stacklevel=2,
            )
    return _fold(State(), read_entries(ledger_file).entries, False, None)


def _fold(state: State, entries: list[Entry], from_snapshot: bool, last: Entry | None) -> Replayed:
    offsets: dict[str, int] = {}
    for e in entries:
        state.apply(
            Applied(e.kind, e.run, e.trace, e.span, e.actor, e.args, e.result, e.meta), e.id
        )
        if e.kind == "run.started" and e.run is not None:
            offsets[e.run] = e.offset
    return Replayed(state, len(entries), from_snapshot, entries[-1] if entries else last, offsets)


def encode_state(st: State) -> bytes:
    """What a snapshot holds: the state, with each finished task and idempotency row as
    its own JSON text so that loading it does not build them (see ``_lazy``).

    Finished tasks and settled rows never change again, so their text replaces the
    object here too (it is rebuilt if anyone reads it). Call with no entry in flight.
    """
    open_tasks: dict[str, Any] = {}
    done: dict[str, str] = {}
    for k, v in dict.items(st.tasks):
        if type(v) is str:
            done[k] = v
        elif isinstance(v, TaskState) and not v.terminal:
            open_tasks[k] = v
        else:
            done[k] = orjson.dumps(v).decode()
            dict.__setitem__(st.tasks, k, done[k])
    known: dict[str, str] = {}
    for k, row in dict.items(st.known):
        known[k] = row if type(row) is str else orjson.dumps(row).decode()
        dict.__setitem__(st.known, k, known[k])
    return orjson.dumps(
        {
            "runs": st.runs,
            "tasks": open_tasks,
            "done": done,
            "known": known,
            "results": st.results,
        }
    )


def decode_state(data: dict[str, Any]) -> State:
    """Rebuild a state (and its queues) from :meth:`view` output (a snapshot).

    Finished tasks and idempotency rows stay raw until used (see ``_lazy``).
    """
    st = State()
    for k, r in data["runs"].items():
        st.runs[k] = RunState(**r)
    for k, v in data["known"].items():
        dict.__setitem__(st.known, k, v)
    for k, v in data.get("done", {}).items():
        dict.__setitem__(st.tasks, k, v)
    st.results = dict(data["results"])
    pending = []
    for k, raw in data["tasks"].items():
        dict.__setitem__(st.tasks, k, raw)
        if raw["status"] in TERMINAL:
            continue
        t = st.tasks[k]
        st.open_tasks.add(t.id)
        heapq.heappush(st.ttl, (t.expires_ms, t.id))
        if t.status == "pending":
            pending.append(t)
        elif t.status == "leased" and t.lease_until_ms is not None:
            heapq.heappush(st.leases, (t.lease_until_ms, t.attempt, t.id))
    pending.sort(key=lambda t: (t.ready_ms, st.known[t.id].ack.entry_id))
    for t in pending:  # oldest first among equals, as a replay would queue them
        st._push_ready(t)
    return st
