"""Checking many Ed25519 signatures without stalling the hashing pass.

Two ways, chosen by ledger size. Small ledgers: after the pass, on a thread
pool (the check releases the GIL). Large ledgers: in forked worker
processes fed in chunks *while* the pass runs, so hashing and signature
checks use different cores; threads cannot do that, because a pure-Python
loop holding the GIL makes each returning check wait out a switch interval.
"""

import multiprocessing
import warnings
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from orca.ledger._keys import TrustedKeys
from orca.ledger._report import Problem

THREAD_CHUNK: Final = 512
PROCESS_CHUNK: Final = 4096
Check = tuple[str, str, bytes]


def _check_chunk(keys: dict[str, bytes], checks: list[Check]) -> list[int]:
    """(In a worker process) the indices of the checks that fail."""
    trusted = TrustedKeys({k: Ed25519PublicKey.from_public_bytes(raw) for k, raw in keys.items()})
    return [i for i, (kid, sig, msg) in enumerate(checks) if not trusted.verify(kid, sig, msg)]


def _failed(trusted: TrustedKeys, checks: list[tuple[str, str, bytes, Problem]]) -> list[Problem]:
    return [p for kid, sig, msg, p in checks if not trusted.verify(kid, sig, msg)]


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class SignatureChecker:
    """Collects (key, signature, message, problem-if-bad) and yields the problems that hold."""

    def __init__(self, trusted: TrustedKeys, *, workers: int, processes: bool) -> None:
        self.trusted = trusted
        self.workers = max(1, workers)
        self.processes = processes and fork_available()
        self.count = 0
        self._pending: list[tuple[str, str, bytes, Problem]] = []
        self._futures: list[tuple[Future[list[int]], list[Problem]]] = []
        self._pool: Executor | None = None
        self._raw = {
            kid: pub.public_bytes(Encoding.Raw, PublicFormat.Raw)
            for kid, pub in trusted.keys.items()
        }

    def add(self, kid: str, sig: str, message: bytes, problem: Problem) -> None:
        self.count += 1
        self._pending.append((kid, sig, message, problem))
        if self.processes and len(self._pending) >= PROCESS_CHUNK:
            self._submit()

    def _submit(self) -> None:
        chunk, self._pending = self._pending, []
        if not chunk:
            return
        with warnings.catch_warnings():  # fork with threads alive: the workers only verify
            warnings.simplefilter("ignore", DeprecationWarning)
            if self._pool is None:
                ctx = multiprocessing.get_context("fork")
                self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
            future = self._pool.submit(_check_chunk, self._raw, [c[:3] for c in chunk])
        self._futures.append((future, [c[3] for c in chunk]))

    def failures(self) -> list[Problem]:
        """Every bad signature's problem; waits for outstanding work and frees the workers."""
        if self.processes:
            self._submit()
            try:
                return [probs[i] for fut, probs in self._futures for i in fut.result()]
            finally:
                if self._pool is not None:
                    self._pool.shutdown()
        checks, self._pending = self._pending, []
        if self.workers <= 1 or len(checks) < 2 * THREAD_CHUNK:
            return _failed(self.trusted, checks)
        parts = [checks[i : i + THREAD_CHUNK] for i in range(0, len(checks), THREAD_CHUNK)]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return [p for ps in pool.map(_failed, [self.trusted] * len(parts), parts) for p in ps]
