"""Master keys: owner-only files under ``<home>/blobs/keys``, one per key id.

``current`` names the key new blobs are sealed with; older keys stay until
no blob names them (``orca blobs rotate-key`` re-encrypts, then retires
them). A key file readable by group or others is refused, not fixed: the
key may already have leaked, and a person should decide. Key bytes live
only in these files and in memory — never in a message, log, journal,
ledger entry or store row (messages name the key id).
"""

import fcntl
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from orca.blobs._errors import BlobKeyError
from orca.blobs._format import key_check

KEY_BYTES: Final = 32
CURRENT: Final = "current"
SUFFIX: Final = ".key"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_private(path: Path, data: bytes) -> None:
    """Write a 0600 file atomically: temp, fsync, rename, directory fsync."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _read_private(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise BlobKeyError(
            f"key file {path} is missing; blobs sealed with it cannot be read"
        ) from None
    except OSError as exc:
        raise BlobKeyError(f"cannot open key file {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if st.st_mode & 0o077:
            raise BlobKeyError(
                f"key file {path} is readable by group or others (mode "
                f"{stat.S_IMODE(st.st_mode):04o}); treat the key as exposed, then "
                f"`chmod 600 {path}` to use it again"
            )
        if st.st_uid != os.getuid():
            raise BlobKeyError(f"key file {path} belongs to uid {st.st_uid}, not to you")
        return os.read(fd, 4096)
    finally:
        os.close(fd)


class KeyRing:
    """The master keys of one blob store, loaded on demand and checked on every load."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._keys: dict[bytes, bytes] = {}

    @contextmanager
    def _lock(self) -> Iterator[None]:
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def ensure(self) -> None:
        """Create the key directory (0700) and a first key when there is none."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._lock():
            if not (self.root / CURRENT).exists():
                self._new_key()

    def _new_key(self) -> bytes:
        kid = secrets.token_bytes(8)
        _write_private(
            self.root / f"{kid.hex()}{SUFFIX}", secrets.token_bytes(KEY_BYTES).hex().encode()
        )
        _write_private(self.root / CURRENT, kid.hex().encode())
        return kid

    def current_id(self) -> bytes:
        """The id of the key new blobs are sealed with."""
        raw = _read_private(self.root / CURRENT).strip()
        try:
            kid = bytes.fromhex(raw.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            kid = b""
        if len(kid) != 8:
            raise BlobKeyError(f"{self.root / CURRENT} does not name a key id (16 hex digits)")
        return kid

    def key(self, kid: bytes) -> bytes:
        """The master key with id ``kid`` (checked for permissions and shape)."""
        found = self._keys.get(kid)
        if found is not None:
            return found
        path = self.root / f"{kid.hex()}{SUFFIX}"
        raw = _read_private(path).strip()
        try:
            key = bytes.fromhex(raw.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise BlobKeyError(f"key file {path} does not hold a 256-bit key (64 hex digits)")
        self._keys[kid] = key
        return key

    def check(self, kid: bytes) -> bytes:
        return key_check(self.key(kid))

    def ids(self) -> list[bytes]:
        """Every key id with a file, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(
            bytes.fromhex(p.stem)
            for p in self.root.glob(f"*{SUFFIX}")
            if len(p.stem) == 16 and all(c in "0123456789abcdef" for c in p.stem)
        )

    def rotate(self) -> bytes:
        """Make a new key current; the old ones stay for the blobs that still name them."""
        self.ensure()
        with self._lock():
            return self._new_key()

    def retire(self, kid: bytes) -> None:
        """Delete a key file (the caller has checked that no blob names it)."""
        if kid == self.current_id():
            raise BlobKeyError(f"key {kid.hex()} is the current key; rotate before retiring it")
        path = self.root / f"{kid.hex()}{SUFFIX}"
        path.unlink(missing_ok=True)
        _fsync_dir(self.root)
        self._keys.pop(kid, None)
