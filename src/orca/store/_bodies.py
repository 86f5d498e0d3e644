"""Bodies: content-addressed by sha256 of the original bytes, zstd above a threshold.

A body (a prompt, a verbatim provider request) is often repeated verbatim
across spans (a system prompt, a retried request), so it is stored once and
referenced by hash. Small bodies are stored raw: zstd's frame overhead and
call cost do not pay below a few hundred bytes.
"""

import base64
import hashlib
from typing import Any, Final

import zstandard

COMPRESS_ABOVE: Final = 256
ZSTD_LEVEL: Final = 3

_compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
_decompressor = zstandard.ZstdDecompressor()


def body_bytes(record: dict[str, Any]) -> bytes | None:
    """The original bytes of a record's body (base64 undone), or None."""
    body = record.get("body")
    if body is None:
        return None
    if record.get("body_enc") == "base64":
        try:
            return base64.b64decode(body, validate=False)
        except ValueError:
            return str(body).encode()
    return str(body).encode("utf-8", "surrogatepass")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def encode(data: bytes) -> tuple[str, bytes]:
    """(encoding, stored bytes) for a body: zstd when that is smaller, else raw."""
    if len(data) > COMPRESS_ABOVE:
        packed = _compressor.compress(data)
        if len(packed) < len(data):
            return "zstd", packed
    return "raw", data


def decode(enc: str, stored: bytes) -> bytes:
    if enc == "zstd":
        return _decompressor.decompress(stored)
    return bytes(stored)
