"""One at-fork and one at-exit hook for every live journal sink of the process.

``os.register_at_fork`` cannot unregister, so registering per sink leaks one
hook per sink ever opened (a long-running process that opens recorders per
job pays for all of them at every fork). ``atexit.unregister`` exists, but
CPython only blanks the slot: its table still grows by one per registration.
So each hook is registered once, on the first sink, and walks a weak set of
the sinks still open; closing a sink takes it out of both sets, which is what
unregistering it means.
"""

import atexit
import os
import threading
import weakref
from typing import Protocol


class Hooked(Protocol):
    def _after_fork(self) -> None: ...

    def close(self) -> None: ...


class ProcessHooks:
    """The fork and exit hooks of a set of live objects (held weakly)."""

    def __init__(self) -> None:
        self.forking: weakref.WeakSet[Hooked] = weakref.WeakSet()
        self.exiting: weakref.WeakSet[Hooked] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._registered = False

    def add(self, obj: Hooked, *, on_exit: bool) -> None:
        """``obj._after_fork()`` in a forked child; ``obj.close()`` at exit if ``on_exit``."""
        with self._lock:
            if not self._registered:
                os.register_at_fork(after_in_child=self._after_fork)
                atexit.register(self._at_exit)
                self._registered = True
            self.forking.add(obj)
            if on_exit:
                self.exiting.add(obj)

    def remove(self, obj: Hooked) -> None:
        """``obj`` closed: neither hook calls it again."""
        with self._lock:
            self.forking.discard(obj)
            self.exiting.discard(obj)

    def _after_fork(self) -> None:
        # The child has one thread: the lock may have been held by another thread of the
        # parent at fork time, so it is replaced, never taken here.
        self._lock = threading.Lock()
        for obj in list(self.forking):
            obj._after_fork()

    def _at_exit(self) -> None:
        for obj in list(self.exiting):
            obj.close()
