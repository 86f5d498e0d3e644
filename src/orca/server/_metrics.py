"""``/metrics``: Prometheus exposition through ``prometheus_client`` (never hand-written).

One registry per app (so two apps in one test process do not collide).
Three sources, all low-cardinality (no run, trace or span ids in labels):

- HTTP: requests by route template, method and status; latency by route.
- The home: collector up, lag (bytes and seconds), quarantined lines,
  journal drops, store size — read on each scrape from the
  :class:`~orca.server.HomeGauges` callable the app was given.
- The ledger (``_orch_metrics``): envelopes, tasks, attempts, runs, tokens
  and cost by agent, budget warnings, policy decisions; plus how long the
  orchestrator's ledger-appending calls take (observed by its routes).
"""

import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orca.errors import OrcaError
from orca.server._config import HomeGauges, ServerConfig
from orca.server._orch_metrics import LedgerMetrics

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class HomeCollector(Collector):
    """Gauges of the home's collector, journal and store, computed at scrape time."""

    def __init__(self, gauges: Callable[[], HomeGauges]) -> None:
        self._gauges = gauges

    def collect(self) -> Iterable[Metric]:
        ok = GaugeMetricFamily(
            "orca_home_scrape_ok", "1 when the home's collector/store figures could be read"
        )
        try:
            g = self._gauges()
        except (OrcaError, OSError):
            ok.add_metric([], 0.0)
            yield ok
            return
        ok.add_metric([], 1.0)
        yield ok
        rows: list[tuple[str, str, float]] = [
            (
                "orca_collector_up",
                "1 when a collector holds the home's lock",
                float(g.collector_pid is not None),
            ),
            ("orca_collector_lag_bytes", "Journal bytes not yet in the store", g.lag_bytes),
            (
                "orca_collector_lag_seconds",
                "Age of the oldest journal bytes not yet in the store",
                g.lag_seconds,
            ),
            (
                "orca_collector_ledger_lag_bytes",
                "Ledger bytes not yet mirrored into the store",
                g.ledger_lag_bytes,
            ),
            (
                "orca_collector_quarantined_lines",
                "Lines the collector could not ingest",
                float(g.quarantined),
            ),
            (
                "orca_journal_dropped_records",
                "Records writers reported dropping",
                float(g.writer_drops),
            ),
            ("orca_store_bytes", "Store file plus WAL, in bytes", float(g.store_bytes)),
            ("orca_store_traces", "Traces in the store", float(g.traces)),
            ("orca_store_spans", "Spans in the store", float(g.spans)),
        ]
        for name, doc, value in rows:
            fam = GaugeMetricFamily(name, doc)
            fam.add_metric([], float(value))
            yield fam
        tokens = GaugeMetricFamily(
            "orca_model_tokens",
            "Tokens recorded in the store's spans",
            labels=["model", "direction"],
        )
        cost = GaugeMetricFamily(
            "orca_model_cost_usd", "Cost recorded in spans, USD", labels=["model"]
        )
        for mu in g.models:
            tokens.add_metric([mu.model, "input"], float(mu.input_tokens))
            tokens.add_metric([mu.model, "output"], float(mu.output_tokens))
            cost.add_metric([mu.model], mu.cost_usd)
        yield tokens
        yield cost


class GovernanceCollector(Collector):
    """The governance room's counters (policy decisions by phase and action, rejected reloads).

    Read from the policy hook the orchestrator was opened with, when it is a
    ``Governance``; its per-run budget gauges are left out (a run id is not a label).
    """

    def __init__(self, orchestrator: Any) -> None:
        self._orchestrator = orchestrator

    def collect(self) -> Iterable[Metric]:
        metrics = getattr(getattr(self._orchestrator, "policy", None), "metrics", None)
        if metrics is None or not hasattr(metrics, "samples"):
            return
        families: dict[str, CounterMetricFamily | GaugeMetricFamily] = {}
        for sample in metrics.samples():
            labels = dict(sample.labels)
            if sample.name.endswith("_total"):
                fam = families.setdefault(
                    sample.name,
                    CounterMetricFamily(
                        sample.name[: -len("_total")], "governance", labels=list(labels)
                    ),
                )
            else:
                fam = families.setdefault(
                    sample.name, GaugeMetricFamily(sample.name, "governance", labels=list(labels))
                )
            fam.add_metric(list(labels.values()), sample.value)
        yield from families.values()


class HttpMetrics:
    """Request counts and latency by route template (``/api/v1/traces/{trace_id}``)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "orca_http_requests",
            "HTTP requests answered",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "orca_http_request_duration_seconds",
            "Time to answer an HTTP request (until the response starts)",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.ledger_append = Histogram(
            "orca_ledger_append_seconds",
            "Time for an orchestrator call to return once its ledger entries are durable",
            ["op"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )


class MeasureRequests:
    """ASGI middleware feeding :class:`HttpMetrics` (streams count once, when they start)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def observe(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                route = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                self.metrics.requests.labels(template, scope["method"], str(msg["status"])).inc()
                self.metrics.latency.labels(template).observe(time.perf_counter() - start)
            await send(msg)

        await self.app(scope, receive, observe)


def registry_for(config: ServerConfig) -> tuple[CollectorRegistry, HttpMetrics]:
    """A fresh registry: HTTP metrics, the ledger's projection, the home's gauges (when given)."""
    registry = CollectorRegistry(auto_describe=True)
    http = HttpMetrics(registry)
    registry.register(LedgerMetrics(config.home))
    if config.gauges is not None:
        registry.register(HomeCollector(config.gauges))
    if config.orchestrator is not None:
        registry.register(GovernanceCollector(config.orchestrator))
    return registry, http
