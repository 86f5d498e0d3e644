"""Built-in PII redaction: e-mail, phone, card (Luhn), US SSN, IBAN (mod 97), API keys.

Runs on every string value of a payload before any rule sees it and before
anything is persisted. Placeholders are deterministic and carry no trace of
the value: the n-th distinct value of a kind in one payload becomes
``[EMAIL_n]``, so the same address twice reads as the same placeholder
(the conversation stays coherent) while nothing about it can be recovered —
a hash of a nine-digit SSN could be brute-forced, a counter cannot.

Checksums keep false positives down: a 16-digit order number that fails
Luhn is left alone, and so is an IBAN-shaped string whose mod-97 check fails.
"""

import re
from collections.abc import Callable, Iterable
from typing import Any, Final, NamedTuple

_KEY = re.compile(
    r"\b(?:"
    r"sk-(?:ant-|proj-|live-|test-)?[A-Za-z0-9_\-]{16,}"
    r"|(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}"
    r"|github_pat_[A-Za-z0-9_]{40,}"
    r"|AKIA[0-9A-Z]{16}"
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}"
    r"|AIza[0-9A-Za-z_\-]{35}"
    r"|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"
    r")"
    r"|(?<=Bearer )[A-Za-z0-9._~+/\-]{16,}=*"
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b")
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+[1-9]\d{0,2}[ .\-]?(?:\(\d{1,4}\)[ .\-]?)?\d{2,4}(?:[ .\-]?\d{2,4}){1,4}"
    r"|\(\d{3}\)[ .\-]?\d{3}[ .\-]\d{4}"
    r"|\d{3}[.\-]\d{3}[.\-]\d{4}"
    r")(?![\w])"
)


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a string of digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN (spaces ignored)."""
    s = text.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    try:
        number = "".join(str(int(ch, 36)) for ch in moved)
    except ValueError:
        return False
    return int(number) % 97 == 1


def _card_ok(text: str) -> bool:
    digits = re.sub(r"[ -]", "", text)
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def _phone_ok(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    return 7 <= digits <= 15


class _Kind(NamedTuple):
    name: str
    label: str
    pattern: re.Pattern[str]
    valid: Callable[[str], bool] | None


# Order matters: a key or an IBAN can contain digit runs a card or phone would also claim.
KINDS: Final = (
    _Kind("api_key", "API_KEY", _KEY, None),
    _Kind("iban", "IBAN", _IBAN, iban_ok),
    _Kind("card", "CARD", _CARD, _card_ok),
    _Kind("ssn", "SSN", _SSN, None),
    _Kind("email", "EMAIL", _EMAIL, None),
    _Kind("phone", "PHONE", _PHONE, _phone_ok),
)
# Every kind needs a digit, an "@" or a key prefix: a string with none of them is skipped
# after one scan instead of six.
_MAYBE = re.compile(r"[0-9@]|sk-|gh[opusr]_|github_pat_|xox[abprs]-|AIza|AKIA|eyJ|Bearer ")
_PLACEHOLDER = re.compile(r"\[(?:API_KEY|IBAN|CARD|SSN|EMAIL|PHONE)_\d+\]")


class Redactor:
    """Redacts the chosen kinds; one call numbers placeholders across the whole payload."""

    def __init__(self, kinds: Iterable[str] | None = None) -> None:
        wanted = set(kinds) if kinds is not None else {k.name for k in KINDS}
        self._kinds = tuple(k for k in KINDS if k.name in wanted)

    def redact(self, payload: Any) -> tuple[Any, dict[str, int]]:
        """``(redacted copy, {kind: count})``; the payload itself is never changed."""
        seen: dict[tuple[str, str], str] = {}
        counts: dict[str, int] = {}
        out = self._walk(payload, seen, counts)
        return (out if counts else payload), counts

    def redact_text(self, text: str) -> tuple[str, dict[str, int]]:
        counts: dict[str, int] = {}
        return self._text(text, {}, counts), counts

    def _walk(self, node: Any, seen: dict[tuple[str, str], str], counts: dict[str, int]) -> Any:
        if isinstance(node, str):
            return self._text(node, seen, counts)
        if isinstance(node, dict):
            return {k: self._walk(v, seen, counts) for k, v in node.items()}
        if isinstance(node, list):
            return [self._walk(v, seen, counts) for v in node]
        return node

    def _text(self, text: str, seen: dict[tuple[str, str], str], counts: dict[str, int]) -> str:
        if len(text) < 6 or _MAYBE.search(text) is None:
            return text
        for kind in self._kinds:

            def sub(m: re.Match[str], kind: _Kind = kind) -> str:
                value = m.group(0)
                if _PLACEHOLDER.fullmatch(value) or (kind.valid and not kind.valid(value)):
                    return value
                key = (kind.name, value)
                ph = seen.get(key)
                if ph is None:
                    n = sum(1 for k in seen if k[0] == kind.name) + 1
                    ph = seen[key] = f"[{kind.label}_{n}]"
                counts[kind.name] = counts.get(kind.name, 0) + 1
                return ph

            text = kind.pattern.sub(sub, text)
        return text
