"""Microsoft Presidio as the PII engine (``pii: {engine: presidio}``, extra ``orca[presidio]``).

Presidio finds entities the regexes cannot (names, addresses); API keys are
not among its recognisers, so the built-in key pattern always runs first.
Placeholders are the built-in ones, so switching engines keeps records
comparable. Without the extra installed, a policy asking for it is rejected
at load time (:func:`require_presidio`), never half-applied.
"""

from collections.abc import Iterable
from typing import Any

from orca.governance._pii import Redactor

_ENTITIES = {
    "EMAIL_ADDRESS": ("email", "EMAIL"),
    "PHONE_NUMBER": ("phone", "PHONE"),
    "CREDIT_CARD": ("card", "CARD"),
    "US_SSN": ("ssn", "SSN"),
    "IBAN_CODE": ("iban", "IBAN"),
}


def require_presidio() -> None:
    """Raise ImportError with the fix when presidio-analyzer is not installed."""
    try:
        import presidio_analyzer  # noqa: F401
    except ImportError:
        raise ImportError(
            "pii.engine presidio needs the extra: pip install 'orca[presidio]'"
        ) from None


class PresidioRedactor(Redactor):
    """Built-in API-key redaction, then Presidio's analyzer for the other kinds."""

    def __init__(self, kinds: Iterable[str]) -> None:
        from presidio_analyzer import AnalyzerEngine

        wanted = set(kinds)
        super().__init__({"api_key"} & wanted)
        self._analyzer = AnalyzerEngine()
        self._entities = [e for e, (k, _) in _ENTITIES.items() if k in wanted]

    def _text(self, text: str, seen: dict[tuple[str, str], str], counts: dict[str, int]) -> str:
        text = super()._text(text, seen, counts)
        if not self._entities or len(text) < 6:
            return text
        results: list[Any] = self._analyzer.analyze(
            text=text, entities=self._entities, language="en"
        )
        for r in sorted(results, key=lambda r: r.start, reverse=True):
            kind, label = _ENTITIES[r.entity_type]
            value = text[r.start : r.end]
            ph = seen.get((kind, value))
            if ph is None:
                n = sum(1 for k in seen if k[0] == kind) + 1
                ph = seen[(kind, value)] = f"[{label}_{n}]"
            counts[kind] = counts.get(kind, 0) + 1
            text = text[: r.start] + ph + text[r.end :]
        return text
