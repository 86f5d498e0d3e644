"""Item 14: instrument() prices with the recorder's own home; a bad price file is one warning."""

from pathlib import Path

import openai
import pytest

from orca.capture import Recorder
from orca.integrations.openai import instrument, settings_of
from orca.testing import FakeProvider, journal_records, temp_home


def _client(fp: FakeProvider, parent: object) -> openai.OpenAI:
    client = openai.OpenAI(api_key="sk-test-0000000000000000", base_url=fp.base_url, max_retries=0)
    return instrument(client, parent=parent)  # type: ignore[arg-type]


def test_item14_prices_come_from_the_recorders_home(
    home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """$ORCA_HOME points elsewhere; the recorder's <home>/prices.toml is the one used."""
    monkeypatch.setenv("ORCA_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.chdir(tmp_path)
    (home / "prices.toml").write_text(
        '[models."gpt-4o"]\ninput = 1000.0\noutput = 1000.0\ncache_read = 1000.0\n'
    )
    with Recorder.open(home, heartbeat_s=None) as rec, FakeProvider() as fp:
        turn = rec.logger("agent").span("turn")
        client = _client(fp, turn)
        assert settings_of(client).prices.lookup("gpt-4o").input == 1000.0  # type: ignore[union-attr]
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
        turn.end()
    [close] = [
        r for r in journal_records(home)
        if r["kind"] == "span-close" and "orca.cost.usd" in r.get("attrs", {})
    ]  # fmt: skip
    usage = (
        close["attrs"]["gen_ai.usage.input_tokens"] + close["attrs"]["gen_ai.usage.output_tokens"]
    )
    assert close["attrs"]["orca.cost.usd"] == pytest.approx(usage * 1000.0 / 1e6)
    assert close["attrs"]["orca.cost.source"] == "prices.toml"  # which list priced the call


def test_item14_malformed_price_file_is_one_warning_with_line() -> None:
    """A broken prices.toml: instrumenting still works, one warning names file and line."""
    with temp_home() as home, FakeProvider() as fp:
        (home / "prices.toml").write_text('[models."m"]\ninput = 1\noutput = [\n')
        with Recorder.open(home, heartbeat_s=None) as rec:
            turn = rec.logger("agent").span("turn")
            with pytest.warns(RuntimeWarning, match=r"prices\.toml.*line \d+") as caught:
                _client(fp, turn)
                _client(fp, turn)
            assert len(caught) == 1
            turn.end()
