"""Verification: re-read the ledger and name every entry that does not hold.

Problem kinds (one word each, stable for ``--json`` consumers):

- ``modified``: an entry's bytes no longer hash to what it or its successor says,
  a payload no longer matches its commitment, or a line is not a ledger line;
- ``gap``: an entry id is missing; ``reordered``: ids out of order;
- ``truncated-after-checkpoint``: a signed checkpoint covers entries the file no longer has;
- ``bad-signature``: a batch or checkpoint signature fails;
- ``unknown-key``: signed by a key that is not trusted;
- ``torn-tail``: what a crash leaves (a torn last line, a batch without its
  signature, a checkpoint missing from the log); opening the ledger repairs it.

Hashes are checked over the bytes as stored; signatures are checked on a
thread pool (the Ed25519 check releases the GIL), one per batch, not per entry.
"""

import os
from hashlib import sha256
from pathlib import Path
from typing import Final

import orjson

from orca.journal import JournalReader
from orca.ledger import merkle
from orca.ledger._format import (
    CKPT_PREFIX,
    ENTRY_PREFIX,
    ERASED,
    GENESIS,
    H_MARK,
    MAX_LINE_BYTES,
    P_MARK,
    SIG_PREFIX,
    Checkpoint,
    FormatError,
    encode_ckpt,
    parse_ckpt,
    parse_sig,
)
from orca.ledger._keys import TrustedKeys, keys_dir
from orca.ledger._read import CHECKPOINT_FILE, ledger_path
from orca.ledger._report import MAX_PROBLEMS, Lines, Problem, Report, writer_live
from orca.ledger._sigcheck import SignatureChecker

_REPAIRED: Final = b'"kind":"ledger.repaired",'
_PROCESS_BYTES: Final = 16 << 20  # from this ledger size on, check signatures in processes


class _Run:
    """The state of one verification pass over the ledger file."""

    def __init__(
        self, path: Path, trusted: TrustedKeys, from_id: int, sigs: SignatureChecker
    ) -> None:
        self.path = path
        self.name = path.name
        self.trusted = trusted
        self.from_id = from_id
        self.report = Report()
        self.expected = 1
        self.prev: str | None = GENESIS
        self.acc = merkle.Accumulator()
        self.roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
        self.batch: list[tuple[int, str]] = []
        self.batch_bad = False
        self.anomalies: list[tuple[int, int, int]] = []  # expected, got, offset
        self.out_of_order: dict[int, int] = {}  # id -> offset
        self.sigs = sigs
        self.ledger_ckpts: list[tuple[Checkpoint, int]] = []
        self.keys: set[str] = set()
        self.wanted: set[int] = set()  # checkpoint sizes whose roots the pass must record

    def problem(
        self, kind: str, entry: int | None, detail: str, offset: int | None, file: str = ""
    ) -> None:
        if len(self.report.problems) >= MAX_PROBLEMS:
            self.report.more_problems += 1
            return
        self.report.problems.append(Problem(kind, entry, detail, file or self.name, offset))

    def signed(
        self, kid: str, sig: str, message: bytes, entry: int, what: str, off: int, file: str = ""
    ) -> None:
        self.keys.add(kid)
        if kid not in self.trusted:
            self.problem("unknown-key", entry, f"{what} is signed by unknown key {kid}", off, file)
            return
        self.sigs.add(
            kid,
            sig,
            message,
            Problem("bad-signature", entry, f"{what} does not verify", file or self.name, off),
        )

    def entry(self, data: bytes, off: int) -> None:
        """Check one entry line by its bytes: header hash, payload commitment, id, chain link.

        No full JSON parse: the header is decoded only for id/prev/ph, and
        everything else is covered by hashes over the stored bytes.
        """
        r = self.report
        i = data.find(H_MARK)
        header = data[:i]
        try:
            if i < 0 or data[i + 70 : i + 76] != P_MARK or data[-1:] != b"}":
                raise FormatError("entry line is not shaped header,h,p")
            h = data[i + 6 : i + 70].decode("ascii")
            d = orjson.loads(header + b"}")
            eid, prev, ph = d["id"], d["prev"], d["ph"]
            if type(eid) is not int or not isinstance(prev, str) or not isinstance(ph, str):
                raise FormatError("entry header fields have the wrong types")
        except (
            FormatError,
            UnicodeDecodeError,
            orjson.JSONDecodeError,
            KeyError,
            TypeError,
        ) as exc:
            self.problem("modified", self.expected, f"unreadable entry line: {exc}", off)
            self.batch_bad = True
            self.prev = None
            self.acc.push(merkle.leaf_hash(b""))
            self.batch.append((self.expected, ""))
            self.expected += 1
            self._leaf_done()
            return
        payload = data[i + 76 : -1]
        erased = payload[:1] == b"n" and payload.rstrip(b" ") == ERASED
        check = eid >= self.from_id
        hash_ok = not check or sha256(header).hexdigest() == h
        if not hash_ok:
            self.problem("modified", self.expected, "entry bytes do not match its hash", off)
            self.batch_bad = True
            eid = self.expected  # its id field is not to be trusted
        elif check and not erased and sha256(payload).hexdigest() != ph:
            self.problem("modified", eid, "payload does not match its committed hash", off)
        if erased:
            r.erased += 1
        if _REPAIRED in header:
            r.repaired.append(eid)
        if eid != self.expected:
            self.batch_bad = True
            if eid < self.expected:
                self.out_of_order[eid] = off
            else:
                self.anomalies.append((self.expected, eid, off))
            self.expected = max(self.expected, eid + 1)
        else:
            self.expected = eid + 1
            if check and hash_ok and self.prev is not None and prev != self.prev:
                self.batch_bad = True
                self.problem(
                    "modified",
                    eid - 1,
                    f"entry {eid} chains to {prev[:12]}…, not to entry {eid - 1}'s hash",
                    off,
                )
        self.prev = h
        try:
            self.acc.push(merkle.leaf_hash(bytes.fromhex(h)))
        except ValueError:  # a damaged hash field (already reported as modified)
            self.acc.push(merkle.leaf_hash(b""))
        self.batch.append((eid, h))
        r.entries += 1
        if eid > r.last_id:
            r.last_id = eid
        if self.acc.size in self.wanted:
            self.roots[self.acc.size] = self.acc.root()

    def _leaf_done(self) -> None:
        if self.acc.size in self.wanted:
            self.roots[self.acc.size] = self.acc.root()

    def sig(self, data: bytes, off: int) -> None:
        r = self.report
        last = self.batch[-1][0] if self.batch else None
        try:
            s = parse_sig(data)
        except FormatError as exc:
            self.problem("modified", last, f"unreadable batch signature line: {exc}", off)
            self.batch, self.batch_bad = [], False
            return
        r.batches += 1
        if not self.batch_bad and (not self.batch or self.batch[-1] != (s.upto, s.hash)):
            self.problem(
                "modified",
                s.upto,
                "batch signature does not name the last entry of its batch",
                off,
            )
        if s.upto >= self.from_id:
            self.signed(
                s.key, s.sig, s.message(), s.upto, f"batch signature over entry {s.upto}", off
            )
        self.batch, self.batch_bad = [], False

    def ckpt(self, data: bytes, off: int) -> None:
        try:
            c = parse_ckpt(data)
        except FormatError as exc:
            self.problem("modified", None, f"unreadable checkpoint line: {exc}", off)
            return
        self.ledger_ckpts.append((c, off))
        if self.batch:
            self.problem("modified", c.size, "checkpoint inside an unsigned batch", off)
        if c.size != self.acc.size or c.root != self.acc.root().hex():
            self.problem(
                "modified",
                c.size,
                f"checkpoint (size {c.size}) does not match the entries before it",
                off,
            )
        self.signed(c.key, c.sig, c.message(), c.size, f"checkpoint at size {c.size}", off)


def verify(
    source: Path,
    *,
    from_id: int = 1,
    trusted: TrustedKeys | None = None,
    workers: int | None = None,
    processes: bool | None = None,
) -> Report:
    """Verify the ledger of a home (or ledger directory or file); see the module doc for kinds.

    ``trusted`` defaults to the public keys in ``<home>/ledger/keys``; pass a
    copy kept elsewhere to catch an attacker who also planted a key there.
    ``from_id`` skips hash, payload and signature checks of earlier entries
    (their stored hashes still feed the chain and the tree). Signatures are
    checked by ``workers`` threads, or worker processes alongside the pass
    when ``processes`` (default: for ledgers over 16 MiB).
    """
    path = ledger_path(source)
    ldir = path.parent
    trusted = trusted if trusted is not None else TrustedKeys.from_dir(keys_dir(ldir))
    if processes is None:
        processes = path.exists() and path.stat().st_size >= _PROCESS_BYTES
    n = workers or os.cpu_count() or 1
    run = _Run(path, trusted, from_id, SignatureChecker(trusted, workers=n, processes=processes))
    live = run.report.writer_live = writer_live(ldir)
    logged, logged_bad = _read_log(ldir / CHECKPOINT_FILE, run, live)
    run.wanted = {c.size for c, _ in logged}
    size = 0
    try:
        f = path.open("rb")
    except FileNotFoundError:
        f = None
    if f is not None:
        with f:
            entry, sig, ckpt = run.entry, run.sig, run.ckpt
            lines = Lines(f)
            for off, data in lines:
                if len(data) > MAX_LINE_BYTES:
                    run.problem(
                        "modified",
                        run.expected,
                        f"a line of {len(data)} bytes, longer than any the ledger writes",
                        off,
                    )
                    data = data[:200]
                if data.startswith(ENTRY_PREFIX):
                    entry(data, off)
                elif data.startswith(SIG_PREFIX):
                    sig(data, off)
                elif data.startswith(CKPT_PREFIX):
                    ckpt(data, off)
                else:
                    entry(data, off)
            size = lines.offset
            if lines.pending:
                _tail(run, live, "a torn last line (a crash mid-write)", lines.offset)
    if run.batch:
        ids = f"{run.batch[0][0]}..{run.batch[-1][0]}"
        _tail(run, live, f"entries {ids} have no batch signature (a crash mid-batch)", size)
    _classify_ids(run)
    _check_log(run, logged, logged_bad, live)
    _check_signatures(run)
    run.report.keys = sorted(run.keys)
    run.report.checkpoints = len(logged)
    return run.report


def _tail(run: _Run, live: bool, detail: str, offset: int) -> None:
    if live:
        run.report.pending_tail = True  # a live writer is mid-batch: not a problem
        return
    first = run.batch[0][0] if run.batch else run.report.last_id + 1
    run.problem("torn-tail", first, detail + "; opening the ledger truncates it", offset)


def _read_log(path: Path, run: _Run, live: bool) -> tuple[list[tuple[Checkpoint, int]], bool]:
    out: list[tuple[Checkpoint, int]] = []
    bad = False
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return out, bad
    with f:
        reader = JournalReader(f, max_line_bytes=MAX_LINE_BYTES)
        for line in reader.lines():
            try:
                out.append((parse_ckpt(line.data), line.offset))
            except FormatError as exc:
                bad = True
                run.problem(
                    "modified", None, f"unreadable checkpoint: {exc}", line.offset, path.name
                )
        if reader.pending and not live:
            run.problem(
                "torn-tail", None, "torn last checkpoint line; opening the ledger truncates it",
                reader.offset, path.name,
            )  # fmt: skip
    return out, bad


def _classify_ids(run: _Run) -> None:
    for expected, got, off in run.anomalies:
        missing = range(expected, got)
        if any(i in run.out_of_order for i in missing):
            run.problem(
                "reordered", expected, f"entry {got} comes where entry {expected} belongs", off
            )
        else:
            span = f"{expected}" if got - expected == 1 else f"{expected}..{got - 1}"
            run.problem("gap", expected, f"entry {span} missing (next present is {got})", off)
    for eid, off in sorted(run.out_of_order.items()):
        run.problem("reordered", eid, f"entry {eid} appears after a later entry", off)


def _check_log(run: _Run, logged: list[tuple[Checkpoint, int]], bad: bool, live: bool) -> None:
    """The checkpoint log against the tree and against the checkpoints in the ledger file."""
    log_name = CHECKPOINT_FILE
    total = run.acc.size
    last_size = 0
    in_ledger = {encode_ckpt(c) for c, _ in run.ledger_ckpts}
    in_log = {encode_ckpt(c) for c, _ in logged}
    for c, off in logged:
        if c.size < last_size:
            run.problem(
                "reordered",
                c.size,
                f"checkpoint at size {c.size} after size {last_size}",
                off,
                log_name,
            )
        last_size = max(last_size, c.size)
        if c.size > total:
            run.problem(
                "truncated-after-checkpoint",
                total + 1,
                f"checkpoint at size {c.size} is signed, but the ledger ends after {total} entries",
                off,
                log_name,
            )
        elif c.size in run.roots and run.roots[c.size].hex() != c.root:
            run.problem(
                "modified",
                c.size,
                f"the tree of {c.size} entries is not the one checkpointed",
                off,
                log_name,
            )
        elif encode_ckpt(c) not in in_ledger and c.size <= total:
            run.problem(
                "truncated-after-checkpoint" if c.size == total else "modified",
                c.size,
                f"checkpoint at size {c.size} is missing from the ledger file",
                off,
                log_name,
            )
        run.signed(c.key, c.sig, c.message(), c.size, f"checkpoint at size {c.size}", off, log_name)
    missing = [(c, off) for c, off in run.ledger_ckpts if encode_ckpt(c) not in in_log]
    for c, off in missing:
        if c is run.ledger_ckpts[-1][0] and not bad:
            if live:
                run.report.pending_tail = True
            else:
                run.problem(
                    "torn-tail",
                    c.size,
                    f"checkpoint at size {c.size} never reached {log_name} "
                    "(a crash between the two writes)",
                    off,
                )
        else:
            run.problem(
                "modified", c.size, f"checkpoint at size {c.size} is missing from {log_name}", off
            )


def _check_signatures(run: _Run) -> None:
    run.report.signatures = run.sigs.count
    for p in run.sigs.failures():
        run.problem(p.kind, p.entry, p.detail, p.offset, p.file)
