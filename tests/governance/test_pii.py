"""Built-in PII redaction: a corpus per kind, positive and negative, deterministic placeholders."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orca.governance import Redactor
from orca.governance._pii import iban_ok, luhn_ok

POSITIVE = [
    ("email", "write to jane.doe+x@mail.example.org today", "[EMAIL_1]"),
    ("email", "a_b@sub.example.co.uk", "[EMAIL_1]"),
    ("phone", "call +1 415-555-0132 now", "[PHONE_1]"),
    ("phone", "office (415) 555-0199", "[PHONE_1]"),
    ("phone", "intl +44 20 7946 0958", "[PHONE_1]"),
    ("card", "visa 4111 1111 1111 1111 exp", "[CARD_1]"),
    ("card", "mc 5500-0000-0000-0004", "[CARD_1]"),
    ("card", "amex 378282246310005", "[CARD_1]"),
    ("ssn", "ssn 123-45-6789 on file", "[SSN_1]"),
    ("iban", "pay GB82 WEST 1234 5698 7654 32 please", "[IBAN_1]"),
    ("iban", "DE89370400440532013000", "[IBAN_1]"),
    ("api_key", "key sk-proj-AbCdEfGhIjKlMnOpQrSt123", "[API_KEY_1]"),
    ("api_key", "aws AKIAIOSFODNN7EXAMPLE", "[API_KEY_1]"),
    ("api_key", "gh ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[API_KEY_1]"),
    ("api_key", "Authorization: Bearer abcdef0123456789ABCDEF", "[API_KEY_1]"),
]
NEGATIVE = [
    ("card", "order 4111111111111112 shipped"),  # 16 digits, fails Luhn
    ("card", "id 1234 5678 9012 3456"),  # fails Luhn
    ("iban", "ref GB82WEST12345698765433"),  # checksum fails
    ("ssn", "not 000-12-3456 nor 666-12-3456 nor 123-00-4567"),
    ("email", "user at example dot com"),
    ("phone", "version 1.2.3 and 2024-01-15 and 12345"),
    ("api_key", "sk-short and the word Bearer alone"),
]


@pytest.mark.parametrize(("kind", "text", "placeholder"), POSITIVE)
def test_each_kind_is_redacted(kind: str, text: str, placeholder: str) -> None:
    """A real value of each kind is replaced by its placeholder and counted."""
    out, counts = Redactor().redact_text(text)
    assert placeholder in out
    assert counts == {kind: 1}


@pytest.mark.parametrize(("kind", "text"), NEGATIVE)
def test_near_misses_are_left_alone(kind: str, text: str) -> None:
    """Checksums and shapes keep look-alikes (a non-Luhn 16-digit number…) untouched."""
    assert Redactor().redact_text(text) == (text, {})


def test_placeholders_are_deterministic_per_payload() -> None:
    """The same value maps to the same placeholder across one payload; values never leak."""
    payload = {"a": "x@example.com and y@example.com", "b": ["x@example.com", 7], "c": None}
    out, counts = Redactor().redact(payload)
    assert out == {"a": "[EMAIL_1] and [EMAIL_2]", "b": ["[EMAIL_1]", 7], "c": None}
    assert counts == {"email": 3}
    assert Redactor().redact(payload) == (out, counts)
    assert payload["a"] == "x@example.com and y@example.com"  # input untouched


def test_kinds_can_be_chosen() -> None:
    """Only the chosen kinds are redacted."""
    out, counts = Redactor(["ssn"]).redact_text("123-45-6789 x@example.com")
    assert out == "[SSN_1] x@example.com" and counts == {"ssn": 1}


def test_redacting_twice_changes_nothing_more() -> None:
    """Placeholders are not themselves redacted again."""
    once, _ = Redactor().redact_text("pay 4111 1111 1111 1111, mail a@b.example")
    assert Redactor().redact_text(once) == (once, {})


@given(st.lists(st.integers(0, 9), min_size=13, max_size=19))
def test_luhn_valid_numbers_are_always_redacted(digits: list[int]) -> None:
    """Make any digit string Luhn-valid by its check digit: it is redacted as a card."""
    body = "".join(map(str, digits[:-1]))
    check = next(d for d in range(10) if luhn_ok(body + str(d)))
    number = body + str(check)
    out, counts = Redactor(["card"]).redact_text(f"n {number} x")
    assert number not in out and counts == {"card": 1}


def test_iban_checksum() -> None:
    """The mod-97 check accepts a real IBAN and rejects one digit off."""
    assert iban_ok("GB82WEST12345698765432")
    assert not iban_ok("GB82WEST12345698765431")
