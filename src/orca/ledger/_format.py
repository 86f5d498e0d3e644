"""The ledger's line format: entries, batch signatures and checkpoints, one JSON object a line.

An entry line is written in a fixed field order and ends with its own hash and
its payload::

    {"v":1,"id":7,"ts":…,"kind":"task.claimed","run":…,"trace":…,"span":…,
     "actor":…,"prev":"<64 hex>","ph":"<64 hex>","h":"<64 hex>","p":{…}}

``h`` is SHA-256 of the exact stored bytes in front of ``,"h":"`` (the header,
which includes ``prev``, the previous entry's ``h``, and ``ph``, SHA-256 of the
exact payload bytes). Verification hashes bytes as they lie on disk and never
re-serialises, so no canonical-JSON question can enter it. The marker
``,"h":"`` cannot occur inside a JSON string (a quote there is always escaped),
so its first occurrence is the real one. ``forget`` replaces the payload with
``null``: the header, and so the chain, still verify ("payload erased,
commitment intact").

A batch signature line follows the entries of each group commit; a checkpoint
line (tree size, RFC 9162 root, time, key id, signature) follows some batches
and is also appended to ``checkpoints.ndjson``, so truncating either file is
caught by the other.
"""

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from orca.ledger._errors import ActionError, LedgerError

VERSION: Final = 1
GENESIS: Final = "0" * 64
H_MARK: Final = b',"h":"'
P_MARK: Final = b'","p":'
ENTRY_PREFIX: Final = b'{"v":1,"id":'
SIG_PREFIX: Final = b'{"v":1,"t":"sig",'
CKPT_PREFIX: Final = b'{"v":1,"t":"ckpt",'
ERASED: Final = b"null"
# Every ledger reader accepts lines up to MAX_LINE_BYTES; the writer refuses any entry
# whose line could exceed its max_entry_bytes, which may be at most MAX_ENTRY_BYTES_LIMIT.
# One pair of constants, so nothing `append` acknowledges is unreadable afterwards.
MAX_LINE_BYTES: Final = 64 << 20
HEADER_ROOM: Final = 8192  # an entry line's bytes beyond its payload never exceed this
MAX_ENTRY_BYTES_LIMIT: Final = MAX_LINE_BYTES - HEADER_ROOM
DEFAULT_MAX_ENTRY_BYTES: Final = 4 << 20

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_HEX128 = re.compile(r"[0-9a-f]{128}\Z")
_KID = re.compile(r"[0-9a-f]{16}\Z")
_KIND = re.compile(r"[A-Za-z0-9_.:/-]{1,128}\Z")
_TRACE = re.compile(r"[0-9a-f]{32}\Z")
_SPAN = re.compile(r"[0-9a-f]{16}\Z")
_ENTRY_KEYS: Final = (
    "v",
    "id",
    "ts",
    "kind",
    "run",
    "trace",
    "span",
    "actor",
    "prev",
    "ph",
    "h",
    "p",
)


class FormatError(LedgerError, ValueError):
    """A line that is not a well-formed ledger line (verification names it ``modified``).

    Readers turn it into :class:`LedgerCorruptError` or a verification problem
    naming the offset; it is in the tree so nothing ORCA raises is a bare ValueError.
    """


@dataclass(frozen=True, slots=True)
class Action:
    """What a caller asks the ledger to record. ``kind`` is an open set (``task.claimed``…)."""

    kind: str
    actor: str | None = None
    run: str | None = None
    trace: str | None = None
    span: str | None = None
    args: Any = None
    result: Any = None
    meta: Any = None

    def check(self) -> None:
        """Raise :class:`ActionError` naming the field when this cannot be recorded."""
        if not isinstance(self.kind, str) or not _KIND.match(self.kind):
            raise ActionError(
                f"action kind {self.kind!r} must be 1-128 chars of letters, digits, '._:/-'"
            )
        for name in ("actor", "run"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or len(value) > 512):
                raise ActionError(f"action {name} must be a string of at most 512 chars")
        if self.trace is not None and not (
            isinstance(self.trace, str) and _TRACE.match(self.trace)
        ):
            raise ActionError(f"action trace {self.trace!r} must be 32 lower-case hex chars")
        if self.span is not None and not (isinstance(self.span, str) and _SPAN.match(self.span)):
            raise ActionError(f"action span {self.span!r} must be 16 lower-case hex chars")

    def payload_bytes(self) -> bytes:
        """The payload as stored (and hashed): args, result and metadata."""
        try:
            return orjson.dumps({"args": self.args, "result": self.result, "meta": self.meta})
        except TypeError as exc:
            raise ActionError(f"action payload is not JSON-serialisable: {exc}") from None


@dataclass(frozen=True, slots=True)
class Entry:
    """One recorded action as read back: header, payload and provenance.

    ``signature``/``key`` name the batch signature that covers this entry (its
    provenance); ``erased`` says the payload was removed by ``forget`` while the
    commitment (``payload_hash``) stayed.
    """

    id: int
    ts: int
    kind: str
    run: str | None
    trace: str | None
    span: str | None
    actor: str | None
    prev: str
    payload_hash: str
    hash: str
    args: Any = None
    result: Any = None
    meta: Any = None
    erased: bool = False
    signature: str | None = None
    key: str | None = None
    offset: int = field(default=-1, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for JSON output (stable key order)."""
        return {
            "id": self.id,
            "ts": self.ts,
            "kind": self.kind,
            "run": self.run,
            "trace": self.trace,
            "span": self.span,
            "actor": self.actor,
            "args": self.args,
            "result": self.result,
            "meta": self.meta,
            "erased": self.erased,
            "hash": self.hash,
            "prev": self.prev,
            "payload_hash": self.payload_hash,
            "signature": self.signature,
            "key": self.key,
        }


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def encode_entry(
    entry_id: int, ts: int, action: Action, prev: str, payload: bytes, payload_hash: str
) -> tuple[bytes, str]:
    """The full line (with newline) and the entry hash."""
    header = orjson.dumps(
        {
            "v": VERSION,
            "id": entry_id,
            "ts": ts,
            "kind": action.kind,
            "run": action.run,
            "trace": action.trace,
            "span": action.span,
            "actor": action.actor,
            "prev": prev,
            "ph": payload_hash,
        }
    )[:-1]
    h = hashlib.sha256(header).hexdigest()
    return header + H_MARK + h.encode() + P_MARK + payload + b"}\n", h


def split_entry(line: bytes) -> tuple[bytes, str, bytes]:
    """(hashed header bytes, stored hash, payload bytes) by position, or FormatError."""
    i = line.find(H_MARK)
    if i < 0 or line[i + 70 : i + 76] != P_MARK or not line.endswith(b"}"):
        raise FormatError("entry line is not shaped header,h,p")
    try:
        h = line[i + 6 : i + 70].decode("ascii")
    except UnicodeDecodeError:
        raise FormatError("entry hash is not ASCII") from None
    if not _HEX64.match(h):
        raise FormatError("entry hash is not 64 lower-case hex chars")
    return line[:i], h, line[i + 76 : -1]


def parse_entry(line: bytes, offset: int = -1) -> tuple[Entry, bytes, bytes]:
    """Decode an entry line strictly: (entry, hashed header bytes, payload bytes).

    Checks shape and types only; whether hashes match is the caller's question
    (verification reports it, the reader trusts a verified ledger).
    """
    header, h, payload = split_entry(line)
    try:
        d = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise FormatError(f"not JSON: {exc}") from None
    if not isinstance(d, dict) or tuple(d) != _ENTRY_KEYS:
        raise FormatError("entry fields are not the expected ones")
    if d["v"] != VERSION or d["h"] != h:
        raise FormatError("unsupported version or duplicated hash field")
    for name in ("id", "ts"):
        if type(d[name]) is not int or d[name] < 0:
            raise FormatError(f"entry {name} is not a non-negative integer")
    if not isinstance(d["kind"], str):
        raise FormatError("entry kind is not a string")
    for name in ("run", "trace", "span", "actor"):
        if d[name] is not None and not isinstance(d[name], str):
            raise FormatError(f"entry {name} is not a string or null")
    for name in ("prev", "ph"):
        if not isinstance(d[name], str) or not _HEX64.match(d[name]):
            raise FormatError(f"entry {name} is not 64 lower-case hex chars")
    p = d["p"]
    erased = payload.rstrip(b" ") == ERASED
    if not erased and not (isinstance(p, dict) and tuple(p) == ("args", "result", "meta")):
        raise FormatError("entry payload is not {args, result, meta}")
    entry = Entry(
        id=d["id"],
        ts=d["ts"],
        kind=d["kind"],
        run=d["run"],
        trace=d["trace"],
        span=d["span"],
        actor=d["actor"],
        prev=d["prev"],
        payload_hash=d["ph"],
        hash=h,
        args=None if erased else p["args"],
        result=None if erased else p["result"],
        meta=None if erased else p["meta"],
        erased=erased,
        offset=offset,
    )
    return entry, header, payload


# --- batch signatures -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchSig:
    """The signature over one group-commit batch: it signs the hash of its last entry."""

    upto: int
    hash: str
    key: str
    sig: str

    def message(self) -> bytes:
        return batch_message(self.upto, self.hash)


def batch_message(upto: int, h: str) -> bytes:
    return b"orca-ledger-batch:v1:%d:%s" % (upto, h.encode())


def encode_sig(s: BatchSig) -> bytes:
    return orjson.dumps(
        {"v": VERSION, "t": "sig", "upto": s.upto, "h": s.hash, "key": s.key, "sig": s.sig}
    )


def parse_sig(line: bytes) -> BatchSig:
    d = _strict(line, ("v", "t", "upto", "h", "key", "sig"))
    if d["t"] != "sig" or type(d["upto"]) is not int:
        raise FormatError("not a batch signature")
    s = BatchSig(d["upto"], d["h"], d["key"], d["sig"])
    _check_hex(s.hash, s.key, s.sig)
    if encode_sig(s) != line:
        raise FormatError("signature line is not in canonical form")
    return s


# --- checkpoints ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement: the tree of the first ``size`` entries has root ``root``."""

    size: int
    root: str
    ts: int
    key: str
    sig: str

    def message(self) -> bytes:
        return checkpoint_message(self.size, self.root, self.ts, self.key)

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "root": self.root, "ts": self.ts, "key": self.key}


def checkpoint_message(size: int, root: str, ts: int, key: str) -> bytes:
    return b"orca-ledger-checkpoint:v1:%d:%s:%d:%s" % (size, root.encode(), ts, key.encode())


def encode_ckpt(c: Checkpoint) -> bytes:
    return orjson.dumps(
        {
            "v": VERSION,
            "t": "ckpt",
            "size": c.size,
            "root": c.root,
            "ts": c.ts,
            "key": c.key,
            "sig": c.sig,
        }
    )


def parse_ckpt(line: bytes) -> Checkpoint:
    d = _strict(line, ("v", "t", "size", "root", "ts", "key", "sig"))
    if d["t"] != "ckpt" or type(d["size"]) is not int or type(d["ts"]) is not int:
        raise FormatError("not a checkpoint")
    c = Checkpoint(d["size"], d["root"], d["ts"], d["key"], d["sig"])
    _check_hex(c.root, c.key, c.sig)
    if encode_ckpt(c) != line:
        raise FormatError("checkpoint line is not in canonical form")
    return c


def _strict(line: bytes, keys: tuple[str, ...]) -> dict[str, Any]:
    try:
        d = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise FormatError(f"not JSON: {exc}") from None
    if not isinstance(d, dict) or tuple(d) != keys or d["v"] != VERSION:
        raise FormatError("fields are not the expected ones")
    return d


def _check_hex(h: Any, key: Any, sig: Any) -> None:
    if not (isinstance(h, str) and _HEX64.match(h)):
        raise FormatError("hash is not 64 lower-case hex chars")
    if not (isinstance(key, str) and _KID.match(key)):
        raise FormatError("key id is not 16 lower-case hex chars")
    if not (isinstance(sig, str) and _HEX128.match(sig)):
        raise FormatError("signature is not 128 lower-case hex chars")
