"""Check thresholds: the ``[checks]`` table of the home config, typed and validated.

Every number a check compares against lives here with its default, so a
team tunes the catalog in ``<home>/config.toml`` instead of forking it. A
wrong value is one line naming the key and what it must be (``ConfigError``):
a threshold silently ignored would make a check lie.
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from orca.errors import ConfigError

# Context windows (input + output tokens) of common models, matched exactly or by the
# longest listed prefix ("gpt-4o-2024-08-06" → "gpt-4o"). Extend or override them in
# [checks.context_windows]. Published figures; a wrong guess only moves the 5% margin.
CONTEXT_WINDOWS: Final[Mapping[str, int]] = {
    "gpt-4o": 128_000,
    "gpt-4o-mini": 128_000,
    "gpt-4-turbo": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-4.1-mini": 1_047_576,
    "gpt-4.1-nano": 1_047_576,
    "gpt-3.5-turbo": 16_385,
    "gpt-5": 400_000,
    "o1": 200_000,
    "o3": 200_000,
    "o3-mini": 200_000,
    "o4-mini": 200_000,
    "claude-3": 200_000,
    "claude-sonnet-4": 200_000,
    "claude-opus-4": 200_000,
    "claude-haiku-4": 200_000,
    "gemini-1.5-pro": 2_097_152,
    "gemini-2.5-pro": 1_048_576,
}


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """The thresholds of the bug catalog; ``CheckConfig()`` is the documented defaults."""

    tool_loop_repeats: int = 3  # same tool + same input this many times in a trace
    tool_loop_max_cycle: int = 4  # longest cycle of tool calls looked for (2..N calls)
    truncated_reasons: tuple[str, ...] = ("length", "max_tokens")
    context_overflow_margin: float = 0.05  # input within 5% of the model's window
    context_windows: Mapping[str, int] = field(default_factory=dict)  # extra/overrides
    rate_limit_run: int = 3  # consecutive rate-limited responses
    rate_limit_statuses: tuple[int, ...] = (429, 529)
    context_bloat_factor: float = 2.0  # input tokens grew more than this…
    context_bloat_steps: int = 5  # …within this many consecutive requests
    cost_spike_factor: float = 3.0  # trace cost over this × the p95 of its root name
    cost_spike_min_traces: int = 20  # fewer traces of a root name: no p95, a note
    slow_factor: float = 3.0  # span duration over this × the p95 of its name
    slow_min_samples: int = 20
    modules: tuple[str, ...] = ()  # user check modules (import names or .py paths)

    def window_of(self, model: str | None) -> int | None:
        """The model's context window: exact name, else the longest matching prefix."""
        if not model:
            return None
        table = {**CONTEXT_WINDOWS, **self.context_windows}
        if model in table:
            return table[model]
        best = max((k for k in table if model.startswith(k)), key=len, default=None)
        return None if best is None else table[best]

    @classmethod
    def from_table(cls, table: Mapping[str, Any], where: str = "[checks]") -> "CheckConfig":
        """The config a ``[checks]`` table asks for; unknown keys and bad values are errors."""
        kwargs: dict[str, Any] = {}
        names = {f.name: f for f in dataclasses.fields(cls)}
        for key, value in table.items():
            spec = _SPECS.get(key)
            if key not in names or spec is None:
                known = ", ".join(sorted(names))
                raise ConfigError(f"{where}: unknown key {key!r}; known keys: {known}")
            kwargs[key] = spec(f"{where} {key}", value)
        return cls(**kwargs)


def _int(min_value: int) -> Any:
    def parse(where: str, v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or v < min_value:
            raise ConfigError(f"{where} must be an integer ≥ {min_value}, not {v!r}")
        return v

    return parse


def _float(min_value: float, max_value: float | None = None) -> Any:
    def parse(where: str, v: Any) -> float:
        ok = isinstance(v, int | float) and not isinstance(v, bool) and v >= min_value
        if ok and max_value is not None and v > max_value:
            ok = False
        if not ok:
            upper = "" if max_value is None else f" and ≤ {max_value:g}"
            raise ConfigError(f"{where} must be a number ≥ {min_value:g}{upper}, not {v!r}")
        return float(v)

    return parse


def _strings(where: str, v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise ConfigError(f"{where} must be a list of non-empty strings, not {v!r}")
    return tuple(v)


def _ints(where: str, v: Any) -> tuple[int, ...]:
    if not isinstance(v, list) or not all(
        isinstance(x, int) and not isinstance(x, bool) for x in v
    ):
        raise ConfigError(f"{where} must be a list of integers, not {v!r}")
    return tuple(v)


def _windows(where: str, v: Any) -> dict[str, int]:
    if not isinstance(v, dict) or not all(
        isinstance(k, str) and isinstance(n, int) and not isinstance(n, bool) and n > 0
        for k, n in v.items()
    ):
        raise ConfigError(f"{where} must be a table of model = tokens (positive integers)")
    return dict(v)


_SPECS: Final[dict[str, Any]] = {
    "tool_loop_repeats": _int(2),
    "tool_loop_max_cycle": _int(2),
    "truncated_reasons": _strings,
    "context_overflow_margin": _float(0.0, 1.0),
    "context_windows": _windows,
    "rate_limit_run": _int(1),
    "rate_limit_statuses": _ints,
    "context_bloat_factor": _float(1.0),
    "context_bloat_steps": _int(2),
    "cost_spike_factor": _float(1.0),
    "cost_spike_min_traces": _int(1),
    "slow_factor": _float(1.0),
    "slow_min_samples": _int(1),
    "modules": _strings,
}
