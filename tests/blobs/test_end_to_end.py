"""A 20 MB provider request, captured end to end: one blob, thin reads, and gone when dropped.

Real parts: the OpenAI client against the fake provider, the journal of a
real home, the collector, the SQLite store, the blob store and the ``orca``
CLI. At the end every file under the home is searched for the body's bytes.
"""

import json
import random
from datetime import timedelta
from pathlib import Path

import openai
import pytest
from click.testing import CliRunner

from orca.blobs import BlobStore
from orca.capture import Recorder
from orca.cli import cli
from orca.collector import Collector, CollectorConfig
from orca.integrations.openai import instrument
from orca.store import SQLiteStore
from orca.testing import FakeProvider

MB = 1024 * 1024


def _big_history(seed: int) -> tuple[list[dict[str, str]], bytes]:
    """~20 MB of unique text in one user message, and a 64-byte fragment of it to look for."""
    rng = random.Random(seed)
    content = rng.randbytes(10 * MB).hex()  # hex: JSON leaves it as is
    fragment = content[12 * MB : 12 * MB + 64].encode()
    return [{"role": "user", "content": content}], fragment


def _every_byte(home: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in home.rglob("*") if p.is_file()]


@pytest.mark.slow
def test_20mb_request_body_end_to_end(home: Path) -> None:
    """Stored once as a blob; `orca span` shows a bounded slice; `orca diff` works; prune and
    `orca blobs gc` (with the journal segment gone) leave no byte of it under the home."""
    history, fragment = _big_history(18)
    rec = Recorder.open(home, heartbeat_s=None)
    with FakeProvider() as fp:
        turn = rec.logger("agent").span("turn")
        client = instrument(
            openai.OpenAI(api_key="sk-test-0000000000000000", base_url=fp.base_url, max_retries=0),
            parent=turn,
        )
        for note in ("first", "first", "second"):  # a retry sends the same bytes again
            client.chat.completions.create(
                model="gpt-4o", messages=[*history, {"role": "user", "content": note}]
            )
        turn.end()
        sent = [r.body for r in fp.requests]
    rec.close()
    assert len(sent[0]) > 20 * MB and sent[0] == sent[1] != sent[2]

    assert any(fragment in data for _, data in _every_byte(home))  # in the journal
    config = CollectorConfig(
        journal_grace=timedelta(0), journal_retention=timedelta(0), retention=None
    )
    with Collector(home, config) as collector:
        collector.drain()

    blobs = BlobStore.open(home, create=False)
    assert sorted(i.size for i in blobs.ls()) == sorted({len(sent[0]), len(sent[2])})

    with SQLiteStore.open(home) as store:
        found = sorted(store.find_spans(name="provider.request"), key=lambda s: s.start_ns)
    requests = [s.span_id for s in found]
    assert len(requests) == 3

    runner = CliRunner()
    shown = runner.invoke(
        cli, ["span", requests[0], "--home", str(home), "--json", "--max-bytes", "2000"]
    )
    assert shown.exit_code == 0, shown.output
    assert len(shown.output) < 20_000  # a slice, not the body
    request_body = json.loads(shown.output)["bodies"][0]
    assert request_body["bytes"] == len(sent[0])
    assert 0 < len(request_body["text"]) <= 2000
    assert request_body["left_out"] == len(sent[0]) - len(request_body["text"])

    diff = runner.invoke(cli, ["diff", requests[0], requests[2], "--home", str(home), "--json"])
    assert diff.exit_code == 0, diff.output
    byte_view = json.loads(diff.output)["request_body"]["bytes"]
    assert byte_view["identical"] is False and byte_view["offset"] > 20 * MB
    same = runner.invoke(cli, ["diff", requests[0], requests[1], "--home", str(home), "--json"])
    assert json.loads(same.output)["request_body"]["bytes"]["identical"] is True

    # Collected, the body is in no file in plaintext: the blobs hold it encrypted.
    assert [str(p) for p, data in _every_byte(home) if fragment in data] == []
    key = blobs.keys.key(blobs.keys.current_id())
    holders = [p for p, data in _every_byte(home) if key in data or key.hex().encode() in data]
    assert [p.parent.name for p in holders] == ["keys"]  # the key file, and nowhere else
    pruned = runner.invoke(cli, ["prune", "--home", str(home), "--max-age", "0s", "--json"])
    assert pruned.exit_code == 0, pruned.output
    assert json.loads(pruned.output)["blobs_deleted"] == 2
    with Collector(home, config) as collector:
        collector.delete_old_segments(10**30)
    gc = runner.invoke(cli, ["blobs", "gc", "--home", str(home), "--grace", "0s", "--json"])
    assert gc.exit_code == 0, gc.output
    assert list(blobs.ls()) == []
    assert [p for p, _ in _every_byte(home) if p.parent.parent.parent.name == "blobs"] == []
    assert [str(p) for p, data in _every_byte(home) if fragment in data] == []
