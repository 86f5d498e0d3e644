"""``orca up``: one process serving a home — HTTP, the orchestrator, the collector beside it.

Start-up order matters for a clean answer to every failure: the home's
server lock first (a second ``orca up`` names the holder's pid and stops
before touching anything), then the listening socket (a taken port is one
line, not a traceback from inside uvicorn), then the orchestrator (it owns
the ledger's appender), then the collector as a child process, then HTTP.

Shutdown (Ctrl-C or SIGTERM) runs the same list backwards: uvicorn stops
accepting and lets in-flight requests finish, the orchestrator closes (the
ledger writes its final checkpoint), the collector child is asked to stop
and **drains** everything written so far before it exits, the lock goes.
"""

import ctypes
import ipaddress
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any, Final

from orca._pidlock import SERVER_LOCK, LockHeld, PidLock
from orca.errors import OrcaError
from orca.server._config import ServerConfig
from orca.server._errors import ServerError, ServerLocked
from orca.server._otlp import exporting, serve_grpc

log = logging.getLogger("orca.server")
COLLECTOR_STOP_TIMEOUT_S: Final = 60.0
GRACEFUL_TIMEOUT_S: Final = 5
TICK_S: Final = 0.25  # how late an expired lease or TTL may be recorded, at most
PR_SET_PDEATHSIG: Final = 1


@dataclass(frozen=True, slots=True)
class UpOptions:
    """How ``orca up`` runs: where it listens and how it reaches the collector.

    ``collector_argv`` is the command of the collector child (the CLI passes
    ``python -m orca collect --home H --drain-on-stop``); ``collector_holder``
    names the pid of a collector already serving the home (then none is
    started). Both are values because the server room may not import the
    collector room.
    """

    host: str
    port: int
    collector_argv: list[str] | None = None
    drain_argv: list[str] | None = None  # a one-shot drain, when the child could not drain
    collector_holder: Callable[[], int | None] = lambda: None
    open_orchestrator: Callable[[], Any] | None = None  # returns a context manager
    say: Callable[[str], None] = print
    otlp_grpc_port: int | None = None  # OTLP/gRPC on host:port (None: off)
    otlp_export: str | None = None  # forward newly stored traces to this OTLP/HTTP endpoint
    otlp_export_bodies: bool = False


def _die_with_parent() -> None:
    """In the collector child: get SIGTERM if ``orca up`` dies (even by SIGKILL). Linux only."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, or one line on why not (port taken, address not local)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by accepted connections: a response's headers and body go out as two writes,
    # and with Nagle on, the second waits for the client's delayed ACK (~40 ms per request).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServerError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; pass another --port "
            "(0 picks a free one) or --host"
        ) from None
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


@contextmanager
def collector_child(opts: UpOptions, say: Callable[[str], None]) -> Iterator[int | None]:
    """The collector beside the server (or the one already running); stopped and drained after."""
    running = opts.collector_holder()
    if running is not None or opts.collector_argv is None:
        if running is not None:
            say(f"collector: using the one already running (pid {running or 'unknown'})")
        yield running
        return
    proc = subprocess.Popen(
        opts.collector_argv,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches us, not it: we stop it after the ledger closes
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    try:
        yield proc.pid
    finally:
        _stop_collector(proc, opts, say)


def _stop_collector(
    proc: "subprocess.Popen[bytes]", opts: UpOptions, say: Callable[[str], None]
) -> None:
    """SIGTERM the child once it runs (it drains, then exits); drain for it if it could not."""
    deadline = time.monotonic() + COLLECTOR_STOP_TIMEOUT_S
    # A collector still starting has no SIGTERM handler yet: let it take the lock first.
    while proc.poll() is None and opts.collector_holder() != proc.pid:
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=max(deadline - time.monotonic(), 1.0))
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    if code == 0:
        say("collector: drained and stopped")
        return
    if opts.drain_argv is None:
        say(f"collector: exited with code {code}; run `orca collect --once` to catch up")
        return
    done = subprocess.run(
        opts.drain_argv, stdin=subprocess.DEVNULL, capture_output=True, check=False
    )
    if done.returncode == 0:
        say(f"collector: exited with code {code}; drained by a final `orca collect --once`")
    else:
        say(f"collector: could not drain (exit {done.returncode}); run `orca collect --once`")


@contextmanager
def ticking(orchestrator: Any, every_s: float = TICK_S) -> Iterator[None]:
    """Record expired leases and TTLs on time even when no worker calls in (a daemon thread)."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_s):
            try:
                orchestrator.tick()
            except OrcaError as exc:  # closed or broken: /readyz reports it; stop ticking
                log.warning("orchestrator tick stopped: %s", exc)
                return

    thread = threading.Thread(target=loop, name="orca-tick", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


class _Signals:
    """SIGINT/SIGTERM recorded, not fatal: uvicorn re-raises the signal after its own shutdown,
    and the default action would kill us before the ledger closes and the collector drains."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "_Signals":
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._record)
        return self

    def _record(self, signum: int, frame: FrameType | None) -> None:
        self.seen.append(signum)

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def serve(config: ServerConfig, opts: UpOptions) -> int:
    """Run ``orca up`` in the foreground until Ctrl-C/SIGTERM; 0 after a clean stop."""
    import uvicorn  # lazily: `orca --help` should not pay for the server

    from orca.server._app import create_app

    home: Path = config.home
    try:
        lock = PidLock(home / SERVER_LOCK)
    except LockHeld as exc:
        raise ServerLocked(str(home), exc.pid) from None
    with ExitStack() as stack:
        stack.callback(lock.release)
        sock = bind(opts.host, opts.port)
        stack.callback(sock.close)
        host, port = sock.getsockname()[:2]
        url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
        signals = stack.enter_context(_Signals())
        orchestrator = None
        if opts.open_orchestrator is not None:  # first: a ledger held elsewhere fails fast
            orchestrator = stack.enter_context(opts.open_orchestrator())
        collector_pid = stack.enter_context(collector_child(opts, opts.say))
        if orchestrator is not None:
            # Unwound before the collector stops (close() is idempotent): the collector then
            # drains the ledger's last entries, written while the orchestrator closes.
            stack.callback(orchestrator.close)
            stack.enter_context(ticking(orchestrator))
        app = create_app(replace(config, orchestrator=orchestrator))
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_level="warning",
                access_log=False,
                timeout_graceful_shutdown=GRACEFUL_TIMEOUT_S,
                lifespan="on",
            )
        )
        started = time.monotonic()
        opts.say(
            f"orca up: serving {home} at {url} "
            f"(collector pid {collector_pid if collector_pid is not None else 'none'}, "
            f"server pid {os.getpid()})"
        )
        opts.say(
            f"next: open {url} in a browser, or point agents at orca.Client({url!r}); Ctrl-C stops"
        )
        if not _loopback(host):
            opts.say(
                f"warning: listening on {host}, beyond this machine, with no authentication: "
                "anyone who reaches the port can read traces and submit envelopes"
            )
        if opts.otlp_grpc_port is not None:
            grpc_server = serve_grpc(app.state.otlp, opts.host, opts.otlp_grpc_port)
            stack.callback(grpc_server.stop, 2.0)
            opts.say(f"otlp: gRPC on {opts.host}:{opts.otlp_grpc_port}; HTTP at {url}/v1/traces")
        if opts.otlp_export is not None:
            stack.enter_context(
                exporting(home, opts.otlp_export, opts.otlp_export_bodies, opts.say)
            )
        server.run(sockets=[sock])
        uptime = time.monotonic() - started
        why = "signal" if signals.seen else "server exit"
        opts.say(f"orca up: stopping after {uptime:.1f} s ({why})")
    opts.say("orca up: stopped")
    return 0
