"""Item 7: secret-named command-line options and case variants are masked by the backstop."""

import pytest

from orca.capture._mask import mask_argv, scrub_secrets


@pytest.mark.parametrize(
    ("argv", "kept", "hidden"),
    [
        (["app", "--password=hunter2hunter2"], "--password=", "hunter2hunter2"),
        (["app", "--token", "tok-abcdef123456"], "--token", "tok-abcdef123456"),
        (["app", "--api-key=k-12345678abcdefgh"], "--api-key=", "k-12345678abcdefgh"),
        (["env", "OPENAI_API_KEY=zz-9876543210abcd"], "OPENAI_API_KEY=", "zz-9876543210abcd"),
        (["app", "--client-secret", "s3cr3t-value-xyz"], "--client-secret", "s3cr3t-value-xyz"),
    ],
)
def test_item07_argv_secret_values_are_masked(argv: list[str], kept: str, hidden: str) -> None:
    """The option name stays (a reader sees what was passed), the value does not."""
    joined = " ".join(mask_argv(argv))
    assert kept in joined and hidden not in joined and "redacted" in joined


def test_item07_plain_arguments_are_untouched() -> None:
    """Ordinary options and positional arguments pass through unchanged."""
    argv = ["python", "agent.py", "--model", "gpt-4o", "--limit=5", "KEYBOARD=us"]
    assert mask_argv(argv) == argv


@pytest.mark.parametrize(
    ("line", "leaked"),
    [
        (b'{"AUTHORIZATION":"Token abcdefgh12345678"}', b"abcdefgh12345678"),
        (b'{"msg":"use bearer abcdefghijk12345"}', b"abcdefghijk12345"),
        (b'{"msg":"BEARER abcdefghijk12345"}', b"abcdefghijk12345"),
        (b'{"h":"{\\"Authorization\\":\\"Basic dXNlcjpwYXNz\\"}"}', b"dXNlcjpwYXNz"),
        (b'{"msg":"Basic YWxpY2U6cGFzc3dvcmQ="}', b"YWxpY2U6cGFzc3dvcmQ="),
    ],
)
def test_item07_backstop_shapes(line: bytes, leaked: bytes) -> None:
    """Upper-case names, lower/upper-case schemes, Basic, and JSON inside JSON are masked."""
    out = scrub_secrets(line)
    assert leaked not in out and b"redacted" in out
