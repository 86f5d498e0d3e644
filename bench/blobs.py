"""Blob store throughput and memory: put/get MB/s beside the same-run floor, peak RSS.

For each size (1 MB, and 64 MB by default or 1 GB with ``--full``):

- floor_put   the same bytes from memory: sha256 + zstd (level 3, streaming) + AES-256-GCM
              per 64 KiB segment, no I/O — what any put must do at least
- floor_get   AES-256-GCM open + zstd decompress + sha256, from memory
- put, get    ``BlobStore.put(stream)`` (bytes for 1 MB) and ``open(address)`` read in
              1 MiB pieces, with temp file, fsync, rename and directory fsync

Ratios are put/floor_put and get/floor_get (floors run on the first 64 MB of
the same bytes: they hold everything in memory, and their rate does not
depend on length). Peak RSS is measured in a child
process that puts and then reads the large blob as streams (``VmHWM``),
beside the same child's RSS before the put. Target: peak ≤ 64 MB for 1 GB.

``--quick`` (or ORCA_BENCH_QUICK=1) uses 16 MB as the large size. The last line is JSON.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import zstandard
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from orca.blobs import CHUNK_SIZE, BlobStore

MB = 1024 * 1024
PIECE = MB


@functools.cache
def _pool(seed: int = 18, pieces: int = 4) -> list[bytes]:
    """Distinct 1 MiB pieces, half random, half text: zstd gets ~2x. 4 MiB in all, more
    than zstd's window, so cycling them does not compress away."""
    rng = random.Random(seed)
    out = []
    for i in range(pieces):
        words = b" ".join(b"w%d" % rng.randint(0, 3000) for _ in range(PIECE // 12))
        out.append((rng.randbytes(PIECE // 2) + words)[:PIECE] + bytes([i]))
    return [p[:PIECE] for p in out]


def pieces(size: int) -> Iterator[bytes]:
    left, i = size, 0
    while left > 0:
        pool = _pool()
        p = pool[i % len(pool)]
        yield p[:left]
        left -= len(p)
        i += 1


class Stream:
    """A readable stream over :func:`pieces`: no copy of the whole blob in memory."""

    def __init__(self, size: int) -> None:
        self._it = pieces(size)

    def read(self, n: int = -1) -> bytes:
        return next(self._it, b"")


FLOOR_MAX = 64 * MB  # floors run on at most this much of the same bytes (they hold it all)


def _nonce(i: int, last: bool) -> bytes:
    return i.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def floor_put(size: int) -> tuple[float, bytes, list[bytes]]:
    """Seconds for sha256 + zstd + AES-GCM per segment from memory; the key and segments."""
    key = os.urandom(32)
    aead = AESGCM(key)
    aad = b"h" * 112
    h = hashlib.sha256()
    z = zstandard.ZstdCompressor(level=3).compressobj()
    buf = bytearray()
    sealed: list[bytes] = []
    t = time.perf_counter()
    for p in pieces(size):
        h.update(p)
        buf += z.compress(p)
        while len(buf) > CHUNK_SIZE:
            sealed.append(aead.encrypt(_nonce(len(sealed), False), bytes(buf[:CHUNK_SIZE]), aad))
            del buf[:CHUNK_SIZE]
    buf += z.flush()
    while len(buf) > CHUNK_SIZE:
        sealed.append(aead.encrypt(_nonce(len(sealed), False), bytes(buf[:CHUNK_SIZE]), aad))
        del buf[:CHUNK_SIZE]
    sealed.append(aead.encrypt(_nonce(len(sealed), True), bytes(buf), aad))
    h.hexdigest()
    return time.perf_counter() - t, key, sealed


def floor_get(key: bytes, sealed: list[bytes]) -> float:
    """Seconds for AES-GCM open + zstd decompress + sha256 from memory."""
    aead = AESGCM(key)
    aad = b"h" * 112
    d = zstandard.ZstdDecompressor().decompressobj()
    h = hashlib.sha256()
    t = time.perf_counter()
    for i, s in enumerate(sealed):
        h.update(d.decompress(aead.decrypt(_nonce(i, i == len(sealed) - 1), s, aad)))
    h.hexdigest()
    return time.perf_counter() - t


def floors(size: int) -> tuple[float, float]:
    """Floor rates (MB/s) for put and get, on the first FLOOR_MAX bytes of the same data."""
    n = min(size, FLOOR_MAX)
    put_s, key, sealed = floor_put(n)
    get_s = floor_get(key, sealed)
    return n / MB / put_s, n / MB / get_s


def measure(size: int, home: Path) -> dict[str, float]:
    store = BlobStore.open(home)
    floor_put_rate, floor_get_rate = floors(size)
    t = time.perf_counter()
    data = b"".join(pieces(size)) if size <= MB else Stream(size)
    address = store.put(data)  # type: ignore[arg-type]
    put_s = time.perf_counter() - t
    t = time.perf_counter()
    with store.open(address) as r:
        while r.read(MB):
            pass
    get_s = time.perf_counter() - t
    store.delete(address)
    mbs = size / MB
    put_rate, get_rate = mbs / put_s, mbs / get_s
    return {
        "size_mb": round(mbs, 1),
        "floor_put_mb_s": round(floor_put_rate, 1),
        "floor_get_mb_s": round(floor_get_rate, 1),
        "put_mb_s": round(put_rate, 1),
        "get_mb_s": round(get_rate, 1),
        "put_vs_floor": round(put_rate / floor_put_rate, 2),
        "get_vs_floor": round(get_rate / floor_get_rate, 2),
    }


def _status_mb(field: str) -> float:
    """VmHWM (peak) or VmRSS (now) of this process image. Not ru_maxrss: Linux carries
    that across exec from the forking parent, which would measure the parent."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_rss(size: int, home: str) -> None:
    """In a fresh process: RSS before, then peak RSS over put(stream) + a streamed read."""
    store = BlobStore.open(home)
    _pool()
    before = _status_mb("VmRSS")
    address = store.put(Stream(size))  # type: ignore[arg-type]
    with store.open(address) as r:
        while r.read(MB):
            pass
    peak = _status_mb("VmHWM")
    print(json.dumps({"before_mb": round(before, 1), "peak_mb": round(peak, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", default=bool(os.environ.get("ORCA_BENCH_QUICK"))
    )
    parser.add_argument("--full", action="store_true", help="the large blob is 1 GB")
    parser.add_argument("--child-rss", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--home", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_rss is not None:
        child_rss(args.child_rss, args.home)
        return
    large = 1024 * MB if args.full else (16 * MB if args.quick else 64 * MB)
    _pool()  # built once, outside every timing
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in (MB, large):
            r = measure(size, Path(tmp) / f"h{size}")
            results[f"{size // MB}MB"] = r
            print(
                f"{size // MB:>5} MB  put {r['put_mb_s']:>7.1f} MB/s"
                f" (floor {r['floor_put_mb_s']:.1f}, x{r['put_vs_floor']})"
                f"  get {r['get_mb_s']:>7.1f} MB/s"
                f" (floor {r['floor_get_mb_s']:.1f}, x{r['get_vs_floor']})"
            )
        out = subprocess.run(
            [sys.executable, __file__, "--child-rss", str(large), "--home", str(Path(tmp) / "rss")],
            capture_output=True,
            text=True,
            check=True,
        )
        rss = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"peak RSS for a {large // MB} MB blob (put + read, child process): {rss['peak_mb']} MB"
        f" (resident before the put {rss['before_mb']} MB; target <= 64 MB)"
    )
    print(
        json.dumps(
            {
                "bench": "blobs",
                "large_mb": large // MB,
                "results": results,
                "peak_rss_mb": rss["peak_mb"],
                "baseline_rss_mb": rss["before_mb"],
                "rss_target_mb": 64,
                "rss_ok": rss["peak_mb"] <= 64,
            }
        )
    )


if __name__ == "__main__":
    main()
