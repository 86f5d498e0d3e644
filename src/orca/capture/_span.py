"""Logger and Span: pure record builders over an injected sink, clock and ids.

Nothing here does I/O; every method builds one plain dict and hands it to
``sink.emit``. Handles are explicit values passed down (``span.child``,
``span.log``), so correlation never depends on ambient state. The code is
written for the hot path: slots, no per-call configuration checks, attribute
dicts passed through untouched when they are already flat.
"""

from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from typing import Any, Final, Protocol

from orca.capture._requests import ToolRequests
from orca.capture._sink import Sink

_SCALARS: Final = frozenset({str, int, float, bool})
STATUS_DETAIL_ATTR: Final = "orca.status.detail"
_CURRENT: ContextVar["Span | None"] = ContextVar("orca_current_span", default=None)
AttrsIn = Mapping[str, object]


class SpanRef(Protocol):
    """Anything that names a span: a :class:`Span`, or a record-like object with ids."""

    @property
    def trace_id(self) -> str: ...

    @property
    def span_id(self) -> str: ...


def current_span() -> "Span | None":
    """The span whose ``with`` block we are in, for integrations that cannot be handed one."""
    return _CURRENT.get()


def flat_attrs(attrs: AttrsIn) -> dict[str, Any]:
    """Attributes as flat scalars: nested values become JSON strings, ``None`` is left out."""
    for value in attrs.values():
        if value.__class__ not in _SCALARS:
            break
    else:
        return attrs  # type: ignore[return-value]  # already flat: no copy on the hot path
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if value is None:
            continue
        if value.__class__ in _SCALARS:
            out[key] = value
        elif isinstance(value, str | int | float):  # subclasses (enums, numpy-like scalars)
            out[key] = value if isinstance(value, bool) else _stringify(value)
        else:
            out[key] = _stringify(value)
    return out


def _stringify(value: object) -> Any:
    """A JSON string for a nested value; the value itself if even ``str()`` fails.

    Returning the unprintable value (instead of raising here, in the caller's
    turn) hands it to the sink, whose fail-safe path counts and drops the record.
    """
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    try:
        import orjson  # the rare nested-value path; not part of `import orca`

        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except Exception:
        try:
            return str(value)
        except Exception:
            return value


def span_name(name: object) -> str:
    """A name the record contract accepts: ``str(name)``, or ``"(unnamed)"`` when empty.

    The span always survives a bad name: raising here would break the caller's turn.
    """
    try:
        text = name if isinstance(name, str) else str(name)
    except Exception:
        text = ""
    return text or "(unnamed)"


def _put_body(record: dict[str, Any], body: object) -> None:
    if isinstance(body, str):
        record["body"] = body
    elif isinstance(body, bytes | bytearray | memoryview):
        raw = bytes(body)
        try:
            record["body"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            import base64  # rare: keep it out of `import orca`

            record["body"] = base64.b64encode(raw).decode("ascii")
            record["body_enc"] = "base64"
    else:
        record["body"] = _stringify(body)


class _Core:
    """What every handle of one recorder shares: sink, clock, ids, home and tool requests.

    ``home`` lets integrations find per-home settings (``prices.toml``) of the
    recorder a span belongs to, instead of guessing from the environment.
    """

    __slots__ = ("clock", "emit", "home", "requests", "span_id", "trace_id")

    def __init__(
        self,
        emit: Callable[[dict[str, Any]], None],
        clock: Callable[[], int],
        trace_id: Callable[[], str],
        span_id: Callable[[int | None], str],
        home: Any = None,
        requests: ToolRequests | None = None,
    ) -> None:
        self.home = home
        self.requests = requests
        self.emit = emit
        self.clock = clock
        self.trace_id = trace_id
        self.span_id = span_id


def open_span(
    core: _Core,
    component: str,
    trace: str | None,
    parent: str | None,
    name: str,
    attrs: AttrsIn | None,
    body: object,
) -> "Span":
    """Write one span-open record and return its handle: a new trace's root when ``trace`` is None.

    The one place a span is opened (``Logger.span`` and ``Span.child`` call it),
    written for the hot path: already-flat attributes are passed through uncopied.
    """
    if name.__class__ is not str or not name:
        name = span_name(name)
    ts = core.clock()
    span_id = core.span_id(ts)
    if trace is None:
        trace = core.trace_id()
    record: dict[str, Any] = {
        "v": 1,
        "kind": "span-open",
        "ts": ts,
        "component": component,
        "trace": trace,
        "span": span_id,
    }
    if parent is not None:
        record["parent"] = parent
    record["name"] = name
    if attrs:
        for value in attrs.values():
            if value.__class__ not in _SCALARS:
                attrs = flat_attrs(attrs)
                break
        record["attrs"] = attrs
    if body is not None:
        _put_body(record, body)
    core.emit(record)
    return Span(core, component, trace, span_id, parent, name)


class Logger:
    """Leveled, correlated log records for one component, optionally bound to a span.

    ``component`` is stamped by the recorder that made the logger; no method
    takes it, so a caller cannot spoof another component.
    """

    __slots__ = ("_core", "_span", "_trace", "component")

    def __init__(
        self, core: _Core, component: str, trace: str | None = None, span: str | None = None
    ) -> None:
        self._core = core
        self.component = component
        self._trace = trace
        self._span = span

    def span(self, name: str, attrs: AttrsIn | None = None, body: object = None) -> "Span":
        """Open a span: a new trace's root, or a child when this logger is bound to a span."""
        return open_span(self._core, self.component, self._trace, self._span, name, attrs, body)

    def _log(self, level: str, msg: str, attrs: AttrsIn | None) -> None:
        core = self._core
        record: dict[str, Any] = {
            "v": 1,
            "kind": "log",
            "ts": core.clock(),
            "component": self.component,
            "level": level,
            "msg": msg if msg.__class__ is str else _stringify(msg),
        }
        if self._trace is not None:
            record["trace"] = self._trace
            record["span"] = self._span
        if attrs:
            record["attrs"] = flat_attrs(attrs)
        core.emit(record)

    def debug(self, msg: str, attrs: AttrsIn | None = None) -> None:
        self._log("debug", msg, attrs)

    def info(self, msg: str, attrs: AttrsIn | None = None) -> None:
        self._log("info", msg, attrs)

    def warn(self, msg: str, attrs: AttrsIn | None = None) -> None:
        self._log("warn", msg, attrs)

    def error(
        self, msg: str, attrs: AttrsIn | None = None, exc: BaseException | None = None
    ) -> None:
        if exc is not None:
            attrs = {**(attrs or {}), **_error_attrs(exc)}
        self._log("error", msg, attrs)


def _error_attrs(exc: BaseException) -> dict[str, str]:
    cls = type(exc)
    name = (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )
    try:
        message = str(exc)
    except Exception:
        message = f"<unprintable {name}>"
    return {"error.type": name, "exception.message": message}


class Span:
    """One occurrence of work: opened when made, closed by :meth:`end` (once).

    Also a context manager: leaving the block closes the span, with status
    ``error`` and the exception's type and message when the block raised (the
    exception is re-raised).
    """

    # _state is None while open, a dict of pending attributes once set_attrs ran,
    # True once ended: one slot instead of three keeps construction cheap.
    # _log and _token are filled lazily (rarely used on the hot path).
    __slots__ = (
        "_core",
        "_log",
        "_state",
        "_token",
        "component",
        "name",
        "parent_id",
        "span_id",
        "trace_id",
    )

    def __init__(
        self,
        core: _Core,
        component: str,
        trace_id: str,
        span_id: str,
        parent_id: str | None,
        name: str,
    ) -> None:
        self._core = core
        self.component = component
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_id = parent_id
        self.name = name
        self._state: dict[str, Any] | bool | None = None

    @property
    def log(self) -> Logger:
        """A logger whose records belong to this span."""
        try:
            return self._log
        except AttributeError:
            self._log: Logger = Logger(self._core, self.component, self.trace_id, self.span_id)
            return self._log

    @property
    def ended(self) -> bool:
        return self._state is True

    def child(self, name: str, attrs: AttrsIn | None = None, body: object = None) -> "Span":
        """Open a child span in the same trace."""
        return open_span(self._core, self.component, self.trace_id, self.span_id, name, attrs, body)

    def set_attrs(self, attrs: AttrsIn) -> None:
        """Attributes known only later; written with the span-close record."""
        state = self._state
        if state is True:
            return
        if state is None or state is False:
            self._state = dict(flat_attrs(attrs))
        else:
            state.update(flat_attrs(attrs))

    def add_link(
        self, other: SpanRef, reason: str | None = None, attrs: AttrsIn | None = None
    ) -> None:
        """Record a causal edge from this span to ``other`` (possibly in another trace)."""
        core = self._core
        record: dict[str, Any] = {
            "v": 1,
            "kind": "link",
            "ts": core.clock(),
            "component": self.component,
            "trace": self.trace_id,
            "span": self.span_id,
            "to_trace": other.trace_id,
            "to_span": other.span_id,
        }
        if reason is not None:
            record["reason"] = reason
        if attrs:
            record["attrs"] = flat_attrs(attrs)
        core.emit(record)

    def end(
        self,
        attrs: AttrsIn | None = None,
        body: object = None,
        error: BaseException | None = None,
        status: str | None = None,
    ) -> None:
        """Close the span; a second call does nothing.

        ``error`` marks it failed and records the exception's type and message;
        ``status="error"`` marks it failed without an exception. Any other
        status text (``"failed"``) also marks it failed, kept as
        ``orca.status.detail``: a typo must not record a failure as ok.
        """
        pending = self._state
        if pending is True:
            return
        self._state = True
        core = self._core
        record: dict[str, Any] = {
            "v": 1,
            "kind": "span-close",
            "ts": core.clock(),
            "component": self.component,
            "trace": self.trace_id,
            "span": self.span_id,
            "status": "error" if error is not None or status == "error" else "ok",
        }
        odd_status = status is not None and status != "ok" and status != "error"
        if pending or attrs or error is not None or odd_status:
            merged: dict[str, Any] = dict(pending) if pending else {}
            if attrs:
                merged.update(flat_attrs(attrs))
            if error is not None:
                merged.update(_error_attrs(error))
            if odd_status:  # "failed", "timeout", …: an error, and keep the caller's word
                record["status"] = "error"
                merged[STATUS_DETAIL_ATTR] = (
                    status if isinstance(status, str) else _stringify(status)
                )
            record["attrs"] = merged
        if body is not None:
            _put_body(record, body)
        core.emit(record)

    def __enter__(self) -> "Span":
        self._token: Token[Span | None] = _CURRENT.set(self)
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            _CURRENT.reset(self._token)
        except (AttributeError, ValueError):  # not entered here, or another context
            pass
        self.end(error=exc)

    def __repr__(self) -> str:
        return f"<Span {self.name} {self.trace_id}/{self.span_id}>"


def _ignore(self: Any, *args: Any, **kwargs: Any) -> None:
    """Accept any call and do nothing: every recording method of the no-op handles."""


class NoopSpan(Span):
    """The span of a disabled recorder: shared, allocation-free, does nothing."""

    __slots__ = ()

    def child(self, name: str, attrs: AttrsIn | None = None, body: object = None) -> "Span":
        return self

    def __enter__(self) -> "Span":
        return self

    set_attrs = add_link = end = __exit__ = _ignore


class NoopLogger(Logger):
    """The logger of a disabled recorder."""

    __slots__ = ()

    def span(self, name: str, attrs: AttrsIn | None = None, body: object = None) -> Span:
        return NOOP_SPAN

    _log = _ignore


def _noop_emit(record: dict[str, Any]) -> None:
    pass


def _noop_span_id(ts_ns: int | None = None) -> str:
    return "0" * 15 + "1"


_NOOP_CORE: Final = _Core(_noop_emit, lambda: 0, lambda: "0" * 31 + "1", _noop_span_id)
#: The one span a disabled recorder hands out: code written ``with log.span(...)`` runs
#: unchanged when recording is off, writing nothing and allocating nothing per call.
NOOP_SPAN: Final = NoopSpan(_NOOP_CORE, "noop", "0" * 31 + "1", "0" * 15 + "1", None, "noop")
NOOP_SPAN._log = NoopLogger(_NOOP_CORE, "noop")
NOOP_SPAN._state = True
#: The one logger a disabled recorder hands out; its spans are :data:`NOOP_SPAN`.
NOOP_LOGGER: Final = NoopLogger(_NOOP_CORE, "noop")


def make_core(
    sink: Sink,
    clock: Callable[[], int],
    trace_id: Callable[[], str],
    span_id: Callable[[int | None], str],
    home: Any = None,
    requests: ToolRequests | None = None,
) -> _Core:
    return _Core(sink.emit, clock, trace_id, span_id, home, requests)


def home_of(handle: "Logger | Span") -> Any:
    """The ORCA home of the recorder that made ``handle`` (None: not recording to a home)."""
    return handle._core.home


def requests_of(handle: "Logger | Span") -> ToolRequests | None:
    """The tool-call map of the recorder that made ``handle`` (None: a disabled recorder)."""
    return handle._core.requests
