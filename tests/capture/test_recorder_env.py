"""Items 15 and 16: ORCA_DISABLED is parsed as documented; use after close() says so."""

import warnings
from pathlib import Path

import pytest

from orca.capture import Recorder
from orca.capture._recorder import disabled_by_env


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "Yes", "on", " ON "])
def test_item15_disabling_words(value: str) -> None:
    """1/true/yes/on in any case disable recording."""
    assert disabled_by_env(value)


@pytest.mark.parametrize("value", ["", "0", "false", "False", "FALSE", "no", "No", "off", "OFF"])
def test_item15_enabling_words(value: str) -> None:
    """0/false/no/off/empty (any case) keep recording on, silently."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not disabled_by_env(value)


def test_item15_unknown_word_keeps_recording_and_warns(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anything else: recording stays on, with one warning naming the value."""
    monkeypatch.setenv("ORCA_DISABLED", "maybe")
    with pytest.warns(RuntimeWarning, match="'maybe'"):
        rec = Recorder.open(home, heartbeat_s=None)
    assert rec.enabled
    rec.close()


def test_item15_false_does_not_disable(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ORCA_DISABLED=False records (it used to disable)."""
    monkeypatch.setenv("ORCA_DISABLED", "False")
    with Recorder.open(home, heartbeat_s=None) as rec:
        assert rec.enabled


def test_item16_use_after_close_says_recorder_is_closed(home: Path) -> None:
    """A span after close() warns "the recorder is closed", not "Bad file descriptor"."""
    rec = Recorder.open(home, heartbeat_s=None)
    log = rec.logger("t")
    rec.close()
    with pytest.warns(RuntimeWarning, match="recorder is closed") as caught:
        log.span("late").end()
    assert "Bad file descriptor" not in str(caught[0].message)
