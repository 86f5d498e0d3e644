"""The blob store: content-addressed, compressed, encrypted files under ``<home>/blobs``.

Layout: ``blobs/ab/cd/<sha256>`` (two levels of 256 directories keep any
directory small), ``blobs/keys/`` (master keys, 0600), ``blobs/tmp/`` (puts
in progress, named ``<pid>-<random>``). A put is visible only once complete:
written to ``tmp``, fsynced, renamed into place, the directory fsynced. A
crash leaves at most a temp file, which :meth:`BlobStore.gc` removes once its
writer is gone.

The address is the plaintext's sha256 (and size), so a second put of the same
bytes is free. A stream's digest is known only at its end, but the blob's key
derives from it; so a stream is first spooled (compressed and sealed under a
random key that never leaves memory), then its segments are re-sealed under
the blob's key. Bytes given whole skip the spool.
"""

import hashlib
import io
import os
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Final, Protocol, overload

import zstandard

from orca.blobs._errors import BlobError, BlobIntegrityError, BlobNotFoundError, Problem
from orca.blobs._format import (
    CHUNK_SIZE,
    HEADER_BYTES,
    MAX_CHUNK_SIZE,
    Header,
    HeaderError,
    blob_keys,
    header_mac_ok,
    seal_header,
    unpack_header,
)
from orca.blobs._keys import KeyRing, _fsync_dir
from orca.blobs._reader import BlobReader, buffered
from orca.blobs._rows import SHA_HEX, Address, BlobInfo, GcResult, RotateResult, sha_of
from orca.blobs._segments import SegmentSource, SegmentWriter

BLOBS_DIR: Final = "blobs"  # the blob store's directory under the ORCA home (keys/ inside)
ZSTD_LEVEL: Final = 3
READ_SIZE: Final = 1024 * 1024
GC_GRACE_S: Final = 600.0  # gc spares blobs younger than this: a put may not be referenced yet
_SPOOL_AAD: Final = b"orca-blob-spool-v1"
Progress = Callable[[int, int], None]  # (done, total)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _OpenHome(Protocol):
    def __call__(
        self, home: str | os.PathLike[str], *, create: bool = ..., chunk_size: int = ...
    ) -> "BlobStore": ...


class _Open:
    """``BlobStore.open(home)`` opens a store; ``store.open(address)`` opens a blob.

    The issue's API names both ``open``; a descriptor gives each its own
    signature (and mypy both), instead of one method guessing from its argument.
    """

    @overload
    def __get__(self, obj: None, objtype: type["BlobStore"]) -> _OpenHome: ...
    @overload
    def __get__(
        self, obj: "BlobStore", objtype: type["BlobStore"] | None = None
    ) -> Callable[[Address | str], BinaryIO]: ...
    def __get__(
        self, obj: "BlobStore | None", objtype: type["BlobStore"] | None = None
    ) -> _OpenHome | Callable[[Address | str], BinaryIO]:
        if obj is None:
            return (objtype or BlobStore).open_home
        return obj.open_blob


class BlobStore:
    """Blobs of one ORCA home. Thread-compatible; many processes may put and read at once."""

    def __init__(self, root: Path, keys: KeyRing, chunk_size: int = CHUNK_SIZE) -> None:
        if not 0 < chunk_size <= MAX_CHUNK_SIZE:
            raise BlobError(f"chunk size {chunk_size} outside 1..{MAX_CHUNK_SIZE}")
        self.root = root
        self.keys = keys
        self.chunk_size = chunk_size

    open = _Open()

    @classmethod
    def open_home(
        cls, home: str | os.PathLike[str], *, create: bool = True, chunk_size: int = CHUNK_SIZE
    ) -> "BlobStore":
        """The blob store of an ORCA home; ``create`` makes its directories and first key."""
        root = Path(home) / BLOBS_DIR
        keys = KeyRing(root / "keys")
        if create:
            try:
                root.mkdir(mode=0o700, parents=True, exist_ok=True)
                (root / "tmp").mkdir(mode=0o700, exist_ok=True)
                keys.ensure()
            except OSError as exc:
                raise BlobError(f"cannot create the blob store {root}: {exc.strerror}") from None
        elif not root.is_dir():
            raise BlobError(f"no blob store at {root}; nothing was stored as a blob yet")
        return cls(root, keys, chunk_size)

    # -- names --------------------------------------------------------------------

    def path(self, address: Address | str) -> Path:
        sha, _ = sha_of(address)
        return self.root / sha[:2] / sha[2:4] / sha

    def exists(self, address: Address | str) -> bool:
        return self.path(address).is_file()

    def stored_bytes(self, address: Address | str) -> int:
        """Bytes the blob takes on disk (header, segments, tags)."""
        try:
            return self.path(address).stat().st_size
        except FileNotFoundError:
            raise BlobNotFoundError(f"no blob {sha_of(address)[0]} in {self.root}") from None

    # -- writing ------------------------------------------------------------------

    def put(self, data: bytes | bytearray | memoryview | BinaryIO) -> Address:
        """Store bytes or a readable binary stream; returns its address (dedup by content)."""
        if isinstance(data, bytes | bytearray | memoryview):
            whole = bytes(data)
            address = Address(hashlib.sha256(whole).hexdigest(), len(whole))
            if self.exists(address):
                return address
            self._write(address, lambda w: self._compress([whole], w, len(whole)))
            return address
        if not callable(getattr(data, "read", None)):
            raise BlobError(f"put() takes bytes or a readable binary stream, not {type(data)}")
        return self._put_stream(data)

    def _tmp(self, kind: str) -> Path:
        return self.root / "tmp" / f"{os.getpid()}-{secrets.token_hex(8)}.{kind}"

    @staticmethod
    def _compress(pieces: Iterable[bytes], w: SegmentWriter, size: int = -1) -> None:
        z = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compressobj(size=size)
        for piece in pieces:
            w.write(z.compress(piece))
        w.write(z.flush())

    def _write(self, address: Address, fill: Callable[[SegmentWriter], None]) -> None:
        """Seal a blob under the current key into a temp file, then publish it atomically."""
        kid = self.keys.current_id()
        master = self.keys.key(kid)
        salt = secrets.token_bytes(16)
        digest = bytes.fromhex(address.sha256)
        enc_key, mac_key = blob_keys(master, salt, digest)
        header = seal_header(
            Header(self.chunk_size, kid, salt, digest, address.size, self.keys.check(kid)),
            mac_key,
        ).pack()
        tmp = self._tmp("put")
        try:
            with tmp.open("wb", buffering=READ_SIZE) as f:
                f.write(header)
                w = SegmentWriter(f, enc_key, header, self.chunk_size)
                fill(w)
                w.finish()
                f.flush()
                os.fsync(f.fileno())
            final = self.path(address)
            if not final.parent.is_dir():
                final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                _fsync_dir(final.parent.parent)
                _fsync_dir(self.root)
            os.replace(tmp, final)
            _fsync_dir(final.parent)
        except OSError as exc:
            raise BlobError(f"cannot write blob {address.sha256} in {self.root}: {exc}") from None
        finally:
            tmp.unlink(missing_ok=True)

    def _put_stream(self, stream: BinaryIO) -> Address:
        spool_key = secrets.token_bytes(32)
        h = hashlib.sha256()
        size = 0
        spool = self._tmp("spool")
        try:
            with spool.open("w+b", buffering=READ_SIZE) as f:
                w = SegmentWriter(f, spool_key, _SPOOL_AAD, self.chunk_size)

                def pieces() -> Iterator[bytes]:
                    nonlocal size
                    while True:
                        piece = stream.read(READ_SIZE)
                        if piece is None:  # a non-blocking stream with nothing ready
                            raise BlobError("put() needs a blocking stream (read() gave None)")
                        if not piece:
                            return
                        if not isinstance(piece, bytes | bytearray):
                            raise BlobError("put() needs a binary stream (read() gave text)")
                        h.update(piece)
                        size += len(piece)
                        yield bytes(piece)

                self._compress(pieces(), w)
                w.finish()
                address = Address(h.hexdigest(), size)
                if self.exists(address):
                    return address
                f.flush()
                f.seek(0)
                src = SegmentSource(
                    f, spool_key, _SPOOL_AAD, self.chunk_size, name="(spool)", file_size=0
                )

                def reseal(out: SegmentWriter) -> None:
                    for segment in src.segments():
                        out.write(segment)

                self._write(address, reseal)
                return address
        except OSError as exc:
            raise BlobError(f"cannot spool a blob in {self.root / 'tmp'}: {exc}") from None
        finally:
            spool.unlink(missing_ok=True)

    # -- reading ------------------------------------------------------------------

    def _open_raw(self, address: Address | str) -> tuple[BinaryIO, Header, bytes, bytes, int]:
        """Open a blob file and check its header: (file, header, raw header, key, file size)."""
        sha, size = sha_of(address)
        try:
            f: BinaryIO = self.path(sha).open("rb")
        except FileNotFoundError:
            raise BlobNotFoundError(f"no blob {sha} in {self.root}") from None
        try:
            file_size = os.fstat(f.fileno()).st_size
            raw = f.read(HEADER_BYTES)
            try:
                header = unpack_header(raw)
            except HeaderError as exc:
                kind: Problem = "truncated" if len(raw) < HEADER_BYTES else "header"
                raise BlobIntegrityError(sha, kind, str(exc)) from None
            if header.sha256.hex() != sha:
                raise BlobIntegrityError(sha, "header", "the header names another blob")
            if header.key_id not in self.keys.ids():
                raise BlobIntegrityError(
                    sha,
                    "wrong-key",
                    f"it names key {header.key_id.hex()}, which {self.keys.root} does not hold"
                    " (the key file was removed, or the header was altered)",
                )
            master = self.keys.key(header.key_id)
            if self.keys.check(header.key_id) != header.key_check:
                raise BlobIntegrityError(
                    sha,
                    "wrong-key",
                    f"key {header.key_id.hex()} does not open it (its key file was replaced,"
                    " or the header's key check was altered)",
                )
            enc_key, mac_key = blob_keys(master, header.salt, header.sha256)
            if not header_mac_ok(raw, mac_key):
                raise BlobIntegrityError(sha, "header", "the header was altered (its MAC fails)")
            if size is not None and header.size != size:
                raise BlobIntegrityError(
                    sha, "size", f"the header records {header.size} bytes, the address {size}"
                )
        except BaseException:
            f.close()
            raise
        return f, header, raw, enc_key, file_size

    def open_blob(self, address: Address | str) -> BinaryIO:
        """A readable stream of the blob's bytes, checked as it is read (close it when done)."""
        f, header, raw, key, file_size = self._open_raw(address)
        src = SegmentSource(
            f, key, raw, header.chunk_size, name=header.sha256.hex(), file_size=file_size
        )
        reader = BlobReader(
            src, sha256=header.sha256.hex(), size=header.size, chunk_size=header.chunk_size
        )
        return buffered(reader, min(header.chunk_size, io.DEFAULT_BUFFER_SIZE * 8))

    def read(self, address: Address | str, limit: int | None = None) -> bytes:
        """The blob's bytes (at most ``limit`` of them: a head slice reads only what it needs)."""
        with self.open_blob(address) as r:
            if limit is None:
                return r.read()
            return r.read(limit)

    def verify(self, address: Address | str) -> Address:
        """Read the whole blob through every check; its address, or a named integrity error."""
        with self.open_blob(address) as r:
            n = 0
            while chunk := r.read(READ_SIZE):
                n += len(chunk)
        return Address(sha_of(address)[0], n)

    # -- listing and removing -----------------------------------------------------

    def _files(self) -> Iterator[Path]:
        if not self.root.is_dir():
            return
        for top in sorted(self.root.iterdir()):
            if len(top.name) != 2 or not top.is_dir():
                continue
            for sub in sorted(top.iterdir()):
                for p in sorted(sub.iterdir()):
                    if SHA_HEX.fullmatch(p.name):
                        yield p

    def ls(self) -> Iterator[BlobInfo]:
        """Every stored blob, from its header (damage shows as ``problem``, never raised)."""
        for p in self._files():
            st = p.stat()
            try:
                with p.open("rb") as f:
                    header = unpack_header(f.read(HEADER_BYTES))
            except HeaderError as exc:
                yield BlobInfo(p.name, None, st.st_size, None, st.st_mtime_ns, str(exc))
                continue
            yield BlobInfo(
                p.name, header.size, st.st_size, header.key_id.hex(), st.st_mtime_ns, None
            )

    def delete(self, address: Address | str) -> bool:
        """Remove a blob; False when there was none."""
        p = self.path(address)
        try:
            p.unlink()
        except FileNotFoundError:
            return False
        _fsync_dir(p.parent)
        return True

    def gc(
        self,
        referenced: Iterable[Address | str],
        *,
        grace_s: float = GC_GRACE_S,
        now_s: float | None = None,
        progress: Progress | None = None,
    ) -> GcResult:
        """Delete blobs not in ``referenced`` (older than ``grace_s``) and dead writers' temps.

        ``referenced`` must hold every blob any referrer (the store, the ledger)
        still points at; the grace period spares a put whose reference is not
        committed yet.
        """
        keep = {sha_of(a)[0] for a in referenced}
        now = time.time() if now_s is None else now_s
        files = list(self._files())
        kept = removed = freed = young = 0
        for n, p in enumerate(files, 1):
            if p.name in keep:
                kept += 1
            else:
                st = p.stat()
                if now - st.st_mtime < grace_s:
                    young += 1
                elif self.delete(p.name):
                    removed += 1
                    freed += st.st_size
            if progress is not None:
                progress(n, len(files))
        temps = 0
        tmp_dir = self.root / "tmp"
        for t in tmp_dir.iterdir() if tmp_dir.is_dir() else ():
            pid = t.name.split("-", 1)[0]
            if pid.isdigit() and _pid_alive(int(pid)) and now - t.stat().st_mtime < 86400:
                continue
            t.unlink(missing_ok=True)
            temps += 1
        return GcResult(kept, removed, freed, temps, young)

    # -- keys ---------------------------------------------------------------------

    def rotate_key(self) -> str:
        """Make a new master key current; existing blobs stay readable under theirs."""
        return self.keys.rotate().hex()

    def reencrypt(
        self, *, limit: int | None = None, progress: Progress | None = None
    ) -> RotateResult:
        """Re-seal blobs under older keys with the current one, then retire unused keys.

        Resumable: each blob is replaced atomically, so an interrupted run
        leaves every blob readable under one key or the other.
        """
        current = self.keys.current_id()
        stale = [b for b in self.ls() if b.key_id is not None and b.key_id != current.hex()]
        todo = stale if limit is None else stale[:limit]
        for n, info in enumerate(todo, 1):
            f, header, raw, key, file_size = self._open_raw(info.sha256)
            src = SegmentSource(
                f, key, raw, header.chunk_size, name=info.sha256, file_size=file_size
            )
            with src:

                def reseal(out: SegmentWriter, src: SegmentSource = src) -> None:
                    for segment in src.segments():
                        out.write(segment)

                self._write(Address(info.sha256, header.size), reseal)
            if progress is not None:
                progress(n, len(todo))
        used = {b.key_id for b in self.ls() if b.key_id is not None}
        retired = []
        for kid in self.keys.ids():
            if kid != current and kid.hex() not in used:
                self.keys.retire(kid)
                retired.append(kid.hex())
        return RotateResult(current.hex(), len(todo), len(stale) - len(todo), retired)
