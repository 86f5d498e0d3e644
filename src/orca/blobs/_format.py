"""The on-disk format of one blob (version 1): a header, then authenticated segments.

    header   magic "ORCABLOB" | version u8 | flags u8 | 2 reserved | chunk_size u32
             | key_id 8 | salt 16 | sha256 32 | size u64 | key_check 16 | header_mac 16
    segment  length u32 | AES-256-GCM(compressed bytes, nonce, aad = header)   (repeated)

The plaintext is zstd-compressed as one stream, and that stream is cut into
``chunk_size`` segments, each sealed on its own so a reader holds one segment
at a time whatever the blob's size. The nonce is the segment's counter (11
bytes) and a last-segment flag (1 byte), the STREAM construction: moving a
segment changes its nonce (``reordered``), cutting the file loses the flagged
last segment (``truncated``), and the header is every segment's associated
data, so no field of it can be changed either.

Why a per-blob key: the seed derived a deterministic nonce from (key, digest),
which reuses a nonce the day the same plaintext compresses differently (a new
zstd). Here each write draws a random salt and seals with
``HKDF(master, salt, info=digest)``, so nonces never repeat under a key, and
two copies of one blob share nothing an attacker can compare.
``key_check`` (a MAC of a fixed string under the master key) names a wrong key
before any segment is tried; ``header_mac`` (under the blob's key) names an
altered header.
"""

import hmac
import struct
from dataclasses import dataclass
from hashlib import sha256
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC: Final = b"ORCABLOB"
VERSION: Final = 1
FLAG_ZSTD: Final = 1
CHUNK_SIZE: Final = 64 * 1024  # default bytes per sealed segment: what a reader holds at once
MAX_CHUNK_SIZE: Final = 4 * 1024 * 1024  # a reader never allocates more for one segment
TAG_BYTES: Final = 16
LENGTH: Final = struct.Struct(">I")
_HEADER: Final = struct.Struct(">8sBB2xI8s16s32sQ16s16s")
HEADER_BYTES: Final = _HEADER.size  # bytes of the fixed header every blob file starts with
_INFO: Final = b"orca-blob-v1:"
_CHECK: Final = b"orca-blob-key-check-v1"


@dataclass(frozen=True, slots=True)
class Header:
    """The fields of a blob's header (``mac`` is filled in by :func:`seal_header`)."""

    chunk_size: int
    key_id: bytes
    salt: bytes
    sha256: bytes
    size: int
    key_check: bytes
    mac: bytes = b"\0" * 16
    version: int = VERSION
    flags: int = FLAG_ZSTD

    def pack(self) -> bytes:
        return _HEADER.pack(
            MAGIC,
            self.version,
            self.flags,
            self.chunk_size,
            self.key_id,
            self.salt,
            self.sha256,
            self.size,
            self.key_check,
            self.mac,
        )


class HeaderError(ValueError):
    """Raised by :func:`unpack_header`; the reader turns it into a named integrity error."""


def unpack_header(raw: bytes) -> Header:
    """Parse and bound-check a header; never trusts a length it has not checked."""
    if len(raw) < HEADER_BYTES:
        raise HeaderError(f"only {len(raw)} of {HEADER_BYTES} header bytes")
    magic, version, flags, chunk, kid, salt, digest, size, check, mac = _HEADER.unpack(raw)
    if magic != MAGIC:
        raise HeaderError("not an ORCA blob (bad magic)")
    if version != VERSION:
        raise HeaderError(f"format version {version}; this ORCA reads version {VERSION}")
    if flags != FLAG_ZSTD:
        raise HeaderError(f"unknown flags {flags:#x}")
    if not 0 < chunk <= MAX_CHUNK_SIZE:
        raise HeaderError(f"chunk size {chunk} outside 1..{MAX_CHUNK_SIZE}")
    return Header(chunk, kid, salt, digest, size, check, mac, version, flags)


def key_check(master: bytes) -> bytes:
    """A fingerprint of the master key that reveals nothing about it (first 16 MAC bytes)."""
    return hmac.new(master, _CHECK, sha256).digest()[:16]


def blob_keys(master: bytes, salt: bytes, digest: bytes) -> tuple[bytes, bytes]:
    """(encryption key, header MAC key) of one blob: HKDF(master, salt, info=digest)."""
    okm = HKDF(algorithm=hashes.SHA256(), length=64, salt=salt, info=_INFO + digest).derive(master)
    return okm[:32], okm[32:]


def seal_header(header: Header, mac_key: bytes) -> Header:
    """The header with its MAC filled in."""
    unsigned = header.pack()[:-16]
    mac = hmac.new(mac_key, unsigned, sha256).digest()[:16]
    return Header(
        header.chunk_size,
        header.key_id,
        header.salt,
        header.sha256,
        header.size,
        header.key_check,
        mac,
        header.version,
        header.flags,
    )


def header_mac_ok(raw: bytes, mac_key: bytes) -> bool:
    unsigned = raw[: HEADER_BYTES - 16]
    want = hmac.new(mac_key, unsigned, sha256).digest()[:16]
    return hmac.compare_digest(want, raw[HEADER_BYTES - 16 : HEADER_BYTES])


def nonce(counter: int, last: bool) -> bytes:
    """STREAM nonce: an 11-byte segment counter and a last-segment flag."""
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")
