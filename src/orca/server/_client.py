"""``orca.Client``: the orchestrator (and the read side) of a running ``orca up``, over HTTP.

The same methods as the in-process :class:`~orca.orchestrator.Orchestrator`,
returning the same rows (``Run``, ``Ack``, ``Task``, ``RunResult``, ledger
``Entry``) and raising the same exceptions — the server sends each error's
stable code and this client raises the class that owns it — so agent code
moves from embedded to served by changing one line::

    orch = Orchestrator.open(home)          # in process
    orch = orca.Client("http://127.0.0.1:7340")   # against `orca up`

Remote workers use ``claim`` / ``heartbeat`` / ``complete`` / ``fail``.
``stream_events`` follows a run over Server-Sent Events and, when the
connection drops, reconnects with ``Last-Event-ID`` so no entry is missed or
repeated.
"""

import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, fields, is_dataclass
from typing import Any, Final
from urllib.parse import quote

import httpx
import orjson
from httpx_sse import connect_sse

from orca.errors import OrcaError
from orca.ledger import Entry
from orca.orchestrator import Ack, Envelope, Run, RunResult, Task, Usage
from orca.server._client_errors import error_for

DEFAULT_TIMEOUT_S: Final = 30.0
RECONNECT_FOR_S: Final = 30.0  # how long a dropped stream keeps trying (`orca up` restarting)
RECONNECT_DELAY_S: Final = 0.2
RECONNECT_DELAY_MAX_S: Final = 1.0


def _seg(value: str) -> str:
    """One path segment: ids are chosen by clients and may hold "/", "?" or "#"."""
    return quote(value, safe="")


def _run_id(run: "Run | str") -> str:
    return _seg(run.id if isinstance(run, Run) else run)


def _envelope_doc(envelope: Envelope | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(envelope, Mapping):
        return dict(envelope)
    doc = {f.name: getattr(envelope, f.name) for f in fields(envelope)}
    for key in ("usage", "retry"):
        value = doc.get(key)
        doc[key] = value.to_dict() if value is not None and hasattr(value, "to_dict") else value
    return {k: v for k, v in doc.items() if v is not None or k == "recipient"}


def _usage_doc(usage: Usage | Mapping[str, Any] | None) -> Any:
    if usage is None or isinstance(usage, Mapping):
        return usage
    return asdict(usage) if is_dataclass(usage) else usage


def _task(doc: dict[str, Any]) -> Task:
    doc = dict(doc)
    doc.pop("envelope_id", None)
    doc["usage"] = Usage.coerce(doc.get("usage"))
    return Task(**doc)


class Client:
    """An ORCA server's orchestrator and read API; use as a context manager or ``close()``."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        reconnect_for: float = RECONNECT_FOR_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.reconnect_for = reconnect_for
        self._http = httpx.Client(base_url=self.url, timeout=timeout, transport=transport)

    # -- plumbing ------------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            r = self._http.request(method, path, **kw)
        except httpx.TransportError as exc:
            raise ConnectionError(f"cannot reach ORCA at {self.url}: {exc}") from exc
        if r.status_code >= 400:
            raise self._error(r)
        return r.json()

    @staticmethod
    def _error(r: httpx.Response) -> OrcaError:
        try:
            err = r.json()["error"]
            code, message = str(err["code"]), str(err["message"])
        except (ValueError, KeyError, TypeError):
            code, message = "bad-request", r.text[:200] or r.reason_phrase
        return error_for(r.status_code, code, message)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs ----------------------------------------------------------------------------------

    def start_run(
        self, workflow: str, *, budget: Any = None, metadata: Mapping[str, Any] | None = None
    ) -> Run:
        body = {"workflow": workflow, "budget": budget, "metadata": metadata}
        return Run(**self._call("POST", "/api/v1/runs", json=body))

    def get_run(self, run: "Run | str") -> Run:
        return Run(**self._call("GET", f"/api/v1/runs/{_run_id(run)}"))

    def runs(self) -> list[Run]:
        return [Run(**d) for d in self._call("GET", "/api/v1/runs", params={"limit": 1000})["runs"]]

    def end_run(self, run: "Run | str", status: str = "ok") -> Run:
        doc = self._call("POST", f"/api/v1/runs/{_run_id(run)}/end", json={"status": status})
        return Run(**doc)

    def cancel_run(self, run: "Run | str") -> Run:
        return self.end_run(run, "cancelled")

    def submit(self, envelope: Envelope | Mapping[str, Any]) -> Ack:
        return Ack(**self._call("POST", "/api/v1/envelopes", json=_envelope_doc(envelope)))

    def fetch_result(self, run: "Run | str", *, wait: float | None = None) -> RunResult:
        params = {} if wait is None else {"wait": wait}
        path = f"/api/v1/runs/{_run_id(run)}/result"
        timeout = self._http.timeout.read
        if wait is not None and timeout is not None:
            timeout = max(timeout, wait + 5)
        return RunResult(**self._call("GET", path, params=params, timeout=timeout))

    # -- remote workers ------------------------------------------------------------------------

    def claim(
        self,
        agent: str,
        *,
        lease_ms: int | None = None,
        max_tasks: int = 1,
        worker: str | None = None,
    ) -> list[Task]:
        body = {"lease_ms": lease_ms, "max_tasks": max_tasks, "worker": worker}
        return [
            _task(d)
            for d in self._call("POST", f"/api/v1/agents/{_seg(agent)}/claim", json=body)["tasks"]
        ]

    def heartbeat(
        self, task_id: str, *, attempt: int | None = None, lease_ms: int | None = None
    ) -> int:
        body = {"attempt": attempt, "lease_ms": lease_ms}
        return int(
            self._call("POST", f"/api/v1/tasks/{_seg(task_id)}/heartbeat", json=body)[
                "lease_until_ms"
            ]
        )

    def complete(
        self,
        task_id: str,
        result: Any = None,
        *,
        usage: Usage | Mapping[str, Any] | None = None,
        attempt: int | None = None,
    ) -> Entry:
        body = {"result": result, "usage": _usage_doc(usage), "attempt": attempt}
        return Entry(**self._call("POST", f"/api/v1/tasks/{_seg(task_id)}/complete", json=body))

    def fail(
        self, task_id: str, error: str, *, retryable: bool = True, attempt: int | None = None
    ) -> Entry:
        body = {"error": str(error), "retryable": retryable, "attempt": attempt}
        return Entry(**self._call("POST", f"/api/v1/tasks/{_seg(task_id)}/fail", json=body))

    # -- events --------------------------------------------------------------------------------

    def stream_events(
        self,
        run: "Run | str",
        *,
        start_event_id: int | None = None,
        since: int | None = None,
        max_events: int | None = None,
        follow: bool = False,
    ) -> Iterator[Entry]:
        """The run's ledger entries in order over SSE; a dropped stream resumes where it was."""
        if max_events is not None and max_events <= 0:
            return
        path = f"/api/v1/runs/{_run_id(run)}/events"
        last: int | None = None
        sent = 0
        tries = 0
        dropped_at: float | None = None
        while True:
            headers = {} if last is None else {"Last-Event-ID": str(last)}
            params: dict[str, Any] = {"follow": follow}
            if start_event_id is not None:
                params["start_event_id"] = start_event_id
            try:
                with connect_sse(
                    self._http, "GET", path, params=params, headers=headers, timeout=None
                ) as source:
                    if source.response.status_code >= 400:
                        source.response.read()
                        raise self._error(source.response)
                    for sse in source.iter_sse():
                        if sse.event == "end":
                            return
                        if not sse.id:
                            continue
                        tries, dropped_at = 0, None
                        last = int(sse.id)
                        entry = Entry(**orjson.loads(sse.data))
                        if since is not None and entry.ts < since:
                            continue
                        yield entry
                        sent += 1
                        if max_events is not None and sent >= max_events:
                            return
            except httpx.TransportError as exc:
                error: Exception = exc
            else:  # closed without `end`: the server stopped mid-stream; resume like a drop
                error = ConnectionError("the stream closed before the run's end")
            tries += 1
            dropped_at = dropped_at or time.monotonic()
            if time.monotonic() - dropped_at > self.reconnect_for:
                raise ConnectionError(
                    f"lost the event stream from {self.url} for {self.reconnect_for:g} s: {error}"
                ) from error
            time.sleep(min(RECONNECT_DELAY_S * tries, RECONNECT_DELAY_MAX_S))

    # -- read side (the CLI's --json documents) ------------------------------------------------

    def traces(self, **params: Any) -> dict[str, Any]:
        """``orca traces --json``: ``limit``, ``since``, ``status``, ``conversation``."""
        return dict(self._call("GET", "/api/v1/traces", params=params))

    def trace(self, ref: str) -> dict[str, Any]:
        """``orca trace REF --json``: the skeleton."""
        return dict(self._call("GET", f"/api/v1/traces/{ref}"))

    def span(self, ref: str, **params: Any) -> dict[str, Any]:
        """``orca span REF --json``: ``body``, ``max_bytes``."""
        return dict(self._call("GET", f"/api/v1/spans/{ref}", params=params))

    def diff(self, a: str, b: str, *, body: str = "request") -> dict[str, Any]:
        return dict(self._call("GET", "/api/v1/diff", params={"a": a, "b": b, "body": body}))

    def checks(self, **params: Any) -> dict[str, Any]:
        """``orca check --json``: ``trace``, ``since``, ``limit``, ``only``."""
        return dict(self._call("GET", "/api/v1/checks", params=params))

    def stats(self, **params: Any) -> dict[str, Any]:
        return dict(self._call("GET", "/api/v1/stats", params=params))

    def search(self, q: str, **params: Any) -> dict[str, Any]:
        return dict(self._call("GET", "/api/v1/search", params={"q": q, **params}))

    def ledger_entries(self, **params: Any) -> list[Entry]:
        """Signed entries, oldest first: ``run``, ``after``, ``limit``."""
        return [Entry(**d) for d in self._call("GET", "/api/v1/ledger/entries", params=params)]
