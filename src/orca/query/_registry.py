"""The check registry: what a check is, how one is added, and how they all run.

A check is a plain function from a :class:`CheckScope` (the trace rows under
check, indexed once) to a list of :class:`Finding`. Built-in checks and your
own register the same way, with the :func:`check` decorator, so ``orca
check`` runs and lists them alike. Your module is loaded from the home
config (``[checks] modules = [...]``) or from an installed package's
``orca.checks`` entry point. A check that raises does not take the catalog
down: it is reported as a failed check naming the exception.
"""

import importlib
import importlib.util
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

from orca.query._builtin import BUILTIN_MODULES, builtin_rank, import_builtins
from orca.query._checkconfig import CheckConfig
from orca.query._resolve import QueryError
from orca.store import LedgerRow, SpanRow, TraceRows, TraceSummary

BodyFn = Callable[[str], bytes | None]
Role = Literal["cause", "symptom"]
ENTRY_POINT_GROUP: Final = "orca.checks"  # the entry-point group a package's checks load from
_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")


class CheckError(QueryError):
    """A check that cannot be registered, loaded or run as asked."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One defect: a one-line message naming the evidence, and the span ids that prove it.

    ``next`` is the command to run next (``orca span ID``, ``orca diff A B``);
    left None, ``orca check`` fills in ``orca span <first span id>``.
    """

    message: str
    span_ids: list[str]
    trace_id: str | None = None
    next: str | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's verdict; ``note`` says what it could not judge, ``error`` that it raised."""

    name: str
    passed: bool
    verdict: str
    findings: list[Finding] = field(default_factory=list)
    note: str | None = None
    error: str | None = None


CheckFn = Callable[["CheckScope"], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """A registered check: its function, the line it prints when it passes, and what it finds.

    ``role`` orders the report: a ``cause`` (rate-limited, context-overflow, …)
    is listed before the ``symptom`` findings (error-span, unfinished-span,
    slow-span) it explains, and those are folded under it.
    """

    name: str
    fn: CheckFn
    ok: str
    about: str
    role: Role
    origin: str

    @property
    def builtin(self) -> bool:
        return self.origin.startswith("orca.")


class _Catalog(MutableMapping[str, CheckSpec]):
    """The registered checks by name; the built-ins are imported on the first read.

    Registering (the :func:`check` decorator) does not load them, reading does:
    the first lookup, iteration or ``len`` imports the built-in modules, then
    lists the built-ins first in their module order and the rest (your checks)
    after them, in the order they registered.
    """

    def __init__(self) -> None:
        self._specs: dict[str, CheckSpec] = {}
        self._loaded = False
        self._loading = False
        # Server threads may read first at the same time: one loads, the others wait for it.
        self._lock = threading.RLock()

    def _ready(self) -> dict[str, CheckSpec]:
        if not self._loaded:
            with self._lock:
                if not self._loaded and not self._loading:  # not re-entered while loading
                    self._loading = True
                    try:
                        import_builtins()  # each module registers through add()
                    finally:
                        self._loading = False
                    ranked = sorted(
                        self._specs.values(), key=lambda s: builtin_rank(s.fn.__module__)
                    )
                    self._specs = {s.name: s for s in ranked}
                    self._loaded = True
        return self._specs

    def add(self, spec: CheckSpec) -> None:
        """Register without loading the built-ins (they call this as they import)."""
        self._specs[spec.name] = spec

    def held(self, name: str) -> CheckSpec | None:
        """The check registered under ``name`` so far, without loading the built-ins."""
        return self._specs.get(name)

    def __getitem__(self, name: str) -> CheckSpec:
        return self._ready()[name]

    def __setitem__(self, name: str, spec: CheckSpec) -> None:
        self._ready()[name] = spec

    def __delitem__(self, name: str) -> None:
        del self._ready()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ready())

    def __len__(self) -> int:
        return len(self._ready())


# Every registered check by name: the built-ins, entry-point plugins and @check functions.
CHECKS: Final = _Catalog()

F = TypeVar("F", bound=CheckFn)
T = TypeVar("T")


def check(
    name: str, *, ok: str, about: str | None = None, role: Role = "cause"
) -> Callable[[F], F]:
    """Register ``fn`` as the check ``name`` (lower-case, dashes), for ``orca check``.

    ``ok`` is the one line shown when it passes, ``about`` the one line
    ``orca check --list`` shows (default: the first line of the function's
    docstring). Registering the same function again (a module loaded twice)
    replaces it; another function under a taken name is a :class:`CheckError`.
    ``check(name, ok=...)(fn)`` registers without the decorator syntax.
    """
    if not _NAME.match(name):
        raise CheckError(f"check name {name!r}: use lower-case letters, digits and dashes")
    if role not in ("cause", "symptom"):
        raise CheckError(f"check {name!r}: role must be 'cause' or 'symptom', not {role!r}")

    def register(fn: F) -> F:
        origin = f"{fn.__module__}.{fn.__qualname__}"
        # A built-in registers as its module loads (inside the catalog's first read); your
        # check first loads the built-ins, so a name one of them holds is refused, not lost.
        builtin = builtin_rank(fn.__module__) < len(BUILTIN_MODULES)
        held = CHECKS.held(name) if builtin else CHECKS.get(name)
        if held is not None and held.origin != origin:
            raise CheckError(
                f"check {name!r} is already registered by {held.origin}; pick another name"
            )
        doc = (fn.__doc__ or "").strip().splitlines()
        CHECKS.add(CheckSpec(name, fn, ok, about or (doc[0] if doc else ok), role, origin))
        return fn

    return register


@dataclass(slots=True)
class CheckScope:
    """The spans under check, indexed once for every check.

    ``traces`` are the store's rows (spans in start order, links, logs and
    ledger entries); ``body(sha256)`` reads a body when the caller gave a
    store; ``p95`` is the slow-span baseline by span name; ``baseline`` the
    trace summaries the cost-spike p95 is taken over; ``config`` the
    thresholds. Call :meth:`note` to say what a check could not judge.
    """

    traces: Sequence[TraceRows]
    spans: list[SpanRow]
    by_id: dict[str, SpanRow]
    body: BodyFn | None
    p95: Mapping[str, int]
    config: CheckConfig = field(default_factory=CheckConfig)
    baseline: Sequence[TraceSummary] = ()
    notes: dict[str, str] = field(default_factory=dict)
    current: str = ""
    by_trace: dict[str, list[SpanRow]] = field(default_factory=dict)
    _memo: dict[Any, Any] = field(default_factory=dict)
    _convs: dict[str, str] = field(default_factory=dict)

    def memo(self, key: Any, build: Callable[[], T]) -> T:
        """``build()`` once per scope under ``key``: an index several checks share."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]  # type: ignore[no-any-return]

    @property
    def ledger(self) -> list[LedgerRow]:
        """Every governed action (ledger entry) of the traces under check."""
        return [e for t in self.traces for e in t.ledger]

    def note(self, text: str) -> None:
        """Attach a note to the running check's result (e.g. why part of it was skipped)."""
        self.notes[self.current] = text

    def parent(self, span: SpanRow) -> SpanRow | None:
        return self.by_id.get(span.parent_id) if span.parent_id else None

    def is_ancestor(self, anc: SpanRow, span: SpanRow) -> bool:
        """Whether ``anc`` is a strict ancestor of ``span``."""
        cur = self.parent(span)
        seen = 0
        while cur is not None and seen < 10_000:
            if cur.span_id == anc.span_id:
                return True
            cur = self.parent(cur)
            seen += 1
        return False

    def conversation(self, span: SpanRow) -> str:
        """The span's conversation: its own, else its nearest ancestor's, else its trace's."""
        known = self._convs.get(span.span_id)
        if known is None:
            known = self._convs[span.span_id] = self._conversation(span)
        return known

    def _conversation(self, span: SpanRow) -> str:
        seen = 0
        cur: SpanRow | None = span
        while cur is not None and seen < 10_000:
            value = cur.attrs.get("gen_ai.conversation.id")
            if value:
                return str(value)
            cur = self.parent(cur)
            seen += 1
        summaries = self.memo(
            "summaries", lambda: {t.summary.trace_id: t.summary for t in self.traces}
        )
        summary = summaries.get(span.trace_id)
        if summary is not None and summary.conversation_id:
            return summary.conversation_id
        return f"trace:{span.trace_id}"


def make_scope(
    traces: Sequence[TraceRows],
    *,
    body: BodyFn | None = None,
    p95: Mapping[str, int] | None = None,
    config: CheckConfig | None = None,
    baseline: Sequence[TraceSummary] | None = None,
) -> CheckScope:
    from orca.query._checks import p95_by_name

    cfg = config or CheckConfig()
    spans = [s for t in traces for s in t.spans]
    by_trace: dict[str, list[SpanRow]] = {}
    for t in traces:
        by_trace.setdefault(t.summary.trace_id, []).extend(t.spans)
    return CheckScope(
        traces,
        spans,
        {s.span_id: s for s in spans},
        body,
        p95 if p95 is not None else p95_by_name(spans, cfg.slow_min_samples),
        cfg,
        baseline if baseline is not None else [t.summary for t in traces],
        by_trace=by_trace,
    )


def run_checks(
    traces: Sequence[TraceRows],
    *,
    body: BodyFn | None = None,
    p95: Mapping[str, int] | None = None,
    only: Iterable[str] | None = None,
    config: CheckConfig | None = None,
    baseline: Sequence[TraceSummary] | None = None,
) -> list[CheckResult]:
    """Every registered check (or those named in ``only``) over ``traces``.

    ``p95`` (slow-span) and ``baseline`` (cost-spike) default to the traces' own.
    """
    names = list(CHECKS) if only is None else list(only)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise CheckError(f"unknown check {unknown[0]!r}; known: {', '.join(CHECKS)}")
    sc = make_scope(traces, body=body, p95=p95, config=config, baseline=baseline)
    return [_run_one(CHECKS[name], sc) for name in names]


def _run_one(spec: CheckSpec, sc: CheckScope) -> CheckResult:
    sc.current = spec.name
    try:
        findings = list(spec.fn(sc))
        if not all(isinstance(f, Finding) for f in findings):
            raise TypeError("a check must return Finding objects")
    except Exception as exc:  # a user's check must not take the whole catalog down
        why = f"{type(exc).__name__}: {exc}"
        return CheckResult(
            spec.name,
            False,
            f"the check itself raised {why}; fix {spec.origin}",
            error=why,
        )
    note = sc.notes.get(spec.name)
    if not findings:
        return CheckResult(spec.name, True, spec.ok, note=note)
    more = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
    return CheckResult(spec.name, False, findings[0].message + more, findings, note=note)


def load_check_modules(modules: Sequence[str], base: Path | None = None) -> list[str]:
    """Import user check modules (import names, or ``.py`` paths relative to ``base``).

    Returns the names of the checks they registered. A module that cannot be
    found or raises on import is a :class:`CheckError` naming it.
    """
    before = set(CHECKS)
    for ref in modules:
        try:
            if ref.endswith(".py") or "/" in ref:
                _import_path(Path(ref) if base is None else base / ref)
            else:
                importlib.import_module(ref)
        except CheckError:
            raise
        except Exception as exc:
            raise CheckError(
                f"check module {ref!r} could not be loaded ({type(exc).__name__}: {exc}); "
                "fix it or remove it from [checks] modules"
            ) from None
    return [n for n in CHECKS if n not in before]


def _import_path(path: Path) -> None:
    if not path.is_file():
        raise CheckError(f"check module {path} does not exist; fix [checks] modules")
    name = "orca_user_checks." + re.sub(r"\W", "_", str(path.resolve()))
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CheckError(f"{path} is not a Python module; fix [checks] modules")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise


def prepare_checks(table: Mapping[str, Any], where: str = "[checks]") -> CheckConfig:
    """The thresholds a ``[checks]`` table asks for, with the user checks it names loaded.

    Every shell (CLI, server, MCP) calls this with its home's table, so they
    run the same catalog with the same thresholds.
    """
    cfg = CheckConfig.from_table(table, where)
    load_entry_points()
    load_check_modules(cfg.modules)
    return cfg


def load_entry_points() -> list[str]:
    """Load every installed package's ``orca.checks`` entry point (a module or a function)."""
    from importlib.metadata import entry_points

    before = set(CHECKS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:
            raise CheckError(
                f"entry point {ep.name} = {ep.value} ({ENTRY_POINT_GROUP}) failed to load "
                f"({type(exc).__name__}: {exc}); fix or uninstall that package"
            ) from None
    return [n for n in CHECKS if n not in before]
