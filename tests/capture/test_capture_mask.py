"""mask() and the journal's secret backstop."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import orca
from orca.capture import MARK, mask, scrub_secrets


@pytest.mark.parametrize(
    ("secret", "masked"),
    [
        ("sk-proj-abcdefghijk0f9a", "sk-…redacted…f9a"),  # >= 13: 3 + 3
        ("abcdefghijklm", "abc…redacted…klm"),
        ("abcdefghijkl", "ab…redacted…kl"),  # 11-12: 2 + 2
        ("abcdefghijk", "ab…redacted…jk"),
        ("abcdefghij", "a…redacted…j"),  # 8-10: 1 + 1
        ("abcdefgh", "a…redacted…h"),
        ("abcdefg", "…redacted…"),  # <= 7: nothing revealed
        ("", "…redacted…"),
    ],
)
def test_tiers(secret: str, masked: str) -> None:
    """The graduated tiers of DESIGN.md, at each boundary."""
    assert mask(secret) == masked


def _revealed(n: int) -> int:
    return 3 if n >= 13 else 2 if n >= 11 else 1 if n >= 8 else 0


@given(st.text(min_size=0, max_size=80))
def test_masked_value_never_contains_the_hidden_middle(secret: str) -> None:
    """Only the revealed ends survive; between them stands the fixed marker, nothing else."""
    out = mask(secret)
    n = _revealed(len(secret))
    prefix, suffix = secret[:n], secret[len(secret) - n :] if n else ""
    assert out == prefix + MARK + suffix
    assert len(out) == 2 * n + len(MARK)  # the length of the secret does not leak either
    middle = secret[n : len(secret) - n]
    if middle and middle not in MARK:
        assert middle not in out[n : len(out) - n]


@given(st.text(min_size=0, max_size=40))
def test_equal_secrets_mask_equally(secret: str) -> None:
    """Masking is deterministic, so a masked field stays diffable across records."""
    assert mask(secret) == mask(str(secret))


@given(st.text(min_size=8, max_size=40), st.data())
def test_rotated_keys_can_be_told_apart(secret: str, data: st.DataObject) -> None:
    """Two same-length secrets that differ in a revealed character mask differently."""
    n = _revealed(len(secret))
    pos = data.draw(st.sampled_from([*range(n), *range(len(secret) - n, len(secret))]))
    repl = data.draw(st.characters().filter(lambda c: c != secret[pos]))
    other = secret[:pos] + repl + secret[pos + 1 :]
    assert mask(other) != mask(secret)


KEY = "sk-proj-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


@pytest.mark.parametrize(
    ("line", "leaked"),
    [
        (b'{"body":"Incorrect API key provided: ' + KEY.encode() + b'"}', KEY.encode()),
        (
            b'{"attrs":{"http.request.header.authorization":"Bearer tok_abcdefghijklmnop"}}',
            b"tok_abcdefghijklmnop",
        ),
        (b'{"attrs":{"Authorization":"Basic dXNlcjpwYXNzd29yZA=="}}', b"dXNlcjpwYXNzd29yZA=="),
        (b'{"attrs":{"proxy-authorization":"token-1234567890abcdef"}}', b"token-1234567890abcdef"),
        (b'{"attrs":{"x-api-key":"' + KEY.encode() + b'"}}', KEY.encode()),
    ],
)
def test_backstop_masks_obvious_secrets(line: bytes, leaked: bytes) -> None:
    """sk- keys, bearer tokens and authorization fields are masked before writing."""
    out = scrub_secrets(line)
    assert leaked not in out
    assert MARK.encode() in out


def test_backstop_leaves_clean_lines_alone() -> None:
    """Clean lines come back as the same object; words merely containing "sk-" are kept."""
    line = b'{"v":1,"kind":"log","msg":"all is well"}'
    assert scrub_secrets(line) is line
    word = b'{"v":1,"kind":"log","msg":"task-abcdefghijklmnopqrstu is done"}'
    assert scrub_secrets(word) == word
    assert (
        scrub_secrets(b'{"msg":"disk-0123456789abcdefghij"}')
        == b'{"msg":"disk-0123456789abcdefghij"}'
    )


def test_backstop_runs_in_the_recorders_journal(home: Path) -> None:
    """A key passed unmasked by careless code never reaches the journal's bytes."""
    rec = orca.Recorder.open(home, heartbeat_s=None)
    log = rec.logger("careless")
    span = log.span(
        "provider.request", attrs={"authorization": f"Bearer {KEY}"}, body=f'{{"api_key": "{KEY}"}}'
    )
    span.log.error(f"401 for key {KEY}")
    span.end()
    rec.close()
    raw = b"".join(p.read_bytes() for p in (home / "journal").iterdir())
    assert KEY.encode() not in raw
    assert raw.count(MARK.encode()) >= 3


def test_backstop_masks_keys_in_the_process_argv(home: Path) -> None:
    """A key passed on the command line is masked in the segment's proc header too."""
    import subprocess
    import sys

    code = "import sys, orca; orca.Recorder.open(sys.argv[1], heartbeat_s=None).close()"
    subprocess.run([sys.executable, "-c", code, str(home), f"--api-key={KEY}"], check=True)
    raw = b"".join(p.read_bytes() for p in (home / "journal").iterdir())
    assert KEY.encode() not in raw
    assert b"--api-key=sk-" in raw
