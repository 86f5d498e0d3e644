"""Hot reload: a valid new policy file replaces the old one; a bad one never does.

:meth:`PolicyReloader.reload` is the step function (tests call it directly);
:meth:`PolicyReloader.start` runs it from a watchfiles thread whenever the
file changes. Each outcome goes to ``on_outcome`` — the orchestrator records
a rejection as a ``policy.reload_rejected`` ledger entry — and is counted.
"""

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from orca.governance._engine import PolicyEngine
from orca.governance._errors import PolicyFileError
from orca.governance._load import load_policy_file
from orca.governance._policy import Policy

_log = logging.getLogger("orca.governance")


class ReloadOutcome(NamedTuple):
    """What one reload did: ``loaded``, ``unchanged`` or ``rejected`` (``error`` says why)."""

    status: str
    path: str
    sha256: str | None
    error: str | None = None

    def audit(self) -> dict[str, str | None]:
        """The ledger payload of ``policy.reload_rejected``: where and why, not the file."""
        return {"path": self.path, "sha256": self.sha256, "error": self.error}


def load_policy(path: str | Path) -> Policy:
    """A compiled :class:`Policy` from a file; :class:`PolicyFileError` when it is not valid."""
    loaded = load_policy_file(path)
    if loaded.doc.pii.enabled and loaded.doc.pii.engine == "presidio":
        from orca.governance._presidio import require_presidio

        try:
            require_presidio()
        except ImportError as exc:
            raise PolicyFileError(loaded.source, None, "pii.engine", str(exc)) from None
    return Policy(loaded.doc, source=loaded.source, sha256=loaded.sha256)


class PolicyReloader:
    """Keeps ``engine`` on the newest valid version of ``path``."""

    def __init__(
        self,
        engine: PolicyEngine,
        path: str | Path,
        on_outcome: Callable[[ReloadOutcome], None] | None = None,
    ) -> None:
        self.engine = engine
        self.path = Path(path)
        self.on_outcome = on_outcome
        self.loaded = 0
        self.rejected = 0
        self._step = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def reload(self) -> ReloadOutcome:
        """Read the file once and act on it; the previous policy stays unless this one is valid."""
        with self._step:
            current = self.engine.policy
            try:
                policy = load_policy(self.path)
            except PolicyFileError as exc:
                self.rejected += 1
                _log.warning("orca: policy reload rejected, previous policy stays: %s", exc)
                outcome = ReloadOutcome("rejected", str(self.path), None, str(exc))
            else:
                if current is not None and current.sha256 == policy.sha256:
                    outcome = ReloadOutcome("unchanged", str(self.path), policy.sha256)
                else:
                    self.engine.replace(policy)
                    self.loaded += 1
                    outcome = ReloadOutcome("loaded", str(self.path), policy.sha256)
        if self.on_outcome is not None and outcome.status != "unchanged":
            try:
                self.on_outcome(outcome)
            except Exception as exc:
                _log.warning("orca: policy reload hook failed: %r", exc)
        return outcome

    def start(self) -> None:
        """Watch the file's directory in a daemon thread; each change to the file reloads."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="orca-policy-watch", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        import watchfiles

        target = self.path.absolute()
        directory = target.parent
        try:
            for changes in watchfiles.watch(
                directory,
                stop_event=self._stop,
                debounce=50,
                step=20,
                rust_timeout=200,
                yield_on_timeout=False,
                raise_interrupt=False,
            ):
                if any(Path(p) == target for _, p in changes):
                    self.reload()
        except Exception as exc:  # the watcher dying must not take the orchestrator with it
            _log.warning("orca: policy file watcher stopped: %r", exc)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching (the policy in force stays)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
