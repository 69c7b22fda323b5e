"""A tiny Prometheus-style metrics registry and the middleware that feeds it.

Exposition is the Prometheus text format (version 0.0.4). Requests are counted by method,
route template (never the raw path: ids would explode the label space) and status; their
latency goes into a histogram. Solve durations are observed by the job runner; jobs by
state are read from the database when ``/metrics`` is scraped.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Labels = tuple[tuple[str, str], ...]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SOLVE_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: Labels = ()) -> str:
    pairs = labels + extra
    if not pairs:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in pairs) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class Counter:
    def __init__(self, name: str, help_text: str) -> None:
        self.name, self.help = name, help_text
        self._values: dict[Labels, float] = defaultdict(float)
        self._lock = threading.Lock()

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        with self._lock:
            self._values[tuple(sorted(labels.items()))] += amount

    def value(self, **labels: str) -> float:
        return self._values.get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        with self._lock:
            for labels, value in sorted(self._values.items()):
                lines.append(f"{self.name}{_labels(labels)} {_number(value)}")
        return lines


class Histogram:
    def __init__(self, name: str, help_text: str, buckets: Sequence[float]) -> None:
        self.name, self.help = name, help_text
        self.buckets = tuple(sorted(buckets))
        self._counts: dict[Labels, list[int]] = {}
        self._sums: dict[Labels, float] = defaultdict(float)
        self._lock = threading.Lock()

    def observe(self, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            counts = self._counts.setdefault(key, [0] * (len(self.buckets) + 1))
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[i] += 1
            counts[-1] += 1
            self._sums[key] += value

    def count(self, **labels: str) -> int:
        counts = self._counts.get(tuple(sorted(labels.items())))
        return 0 if counts is None else counts[-1]

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        with self._lock:
            for labels, counts in sorted(self._counts.items()):
                for bound, count in zip((*self.buckets, math.inf), counts, strict=True):
                    le = (("le", _number(bound)),)
                    lines.append(f"{self.name}_bucket{_labels(labels, le)} {count}")
                lines.append(f"{self.name}_sum{_labels(labels)} {_number(self._sums[labels])}")
                lines.append(f"{self.name}_count{_labels(labels)} {counts[-1]}")
        return lines


class Gauge:
    """A gauge whose values are computed when scraped."""

    def __init__(
        self, name: str, help_text: str, collect: Callable[[], Iterable[tuple[Labels, float]]]
    ) -> None:
        self.name, self.help, self.collect = name, help_text, collect

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} gauge"]
        for labels, value in self.collect():
            lines.append(f"{self.name}{_labels(labels)} {_number(value)}")
        return lines


class Metrics:
    """The service's metrics, one registry per app."""

    def __init__(self) -> None:
        self.requests = Counter("allocator_http_requests_total", "HTTP requests handled.")
        self.latency = Histogram(
            "allocator_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            LATENCY_BUCKETS,
        )
        self.solve_duration = Histogram(
            "allocator_solve_duration_seconds",
            "Wall-clock time of finished solve jobs, by outcome.",
            SOLVE_BUCKETS,
        )
        self.gauges: list[Gauge] = []

    def add_gauge(self, gauge: Gauge) -> None:
        self.gauges.append(gauge)

    def render(self) -> str:
        lines: list[str] = []
        for metric in (self.requests, self.latency, self.solve_duration):
            lines += metric.render()
        for gauge in self.gauges:
            lines += gauge.render()
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    """Count every HTTP request by route template and status, and time it."""

    def __init__(self, app: ASGIApp, metrics: Metrics, prefixes: Sequence[str] = ()) -> None:
        self.app = app
        self.metrics = metrics
        self.prefixes = tuple(prefixes)

    def _template(self, scope: Scope) -> str:
        """The matched route's path template, with its router prefix (never the raw path)."""
        template = str(getattr(scope.get("route"), "path", "") or "")
        if not template:
            return "<unmatched>"
        path = str(scope.get("path", ""))
        for prefix in self.prefixes:
            if path.startswith(prefix + "/") and not template.startswith(prefix + "/"):
                return prefix + template
        return template

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            labels = {"method": str(scope.get("method", "")), "route": self._template(scope)}
            self.metrics.requests.inc(1.0, **labels, status=str(status))
            self.metrics.latency.observe(time.perf_counter() - started, **labels)
