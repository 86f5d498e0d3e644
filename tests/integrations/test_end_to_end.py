"""Journal → collector → store → ``orca check``: secrets stay masked, cache busts are found.

Real parts all the way: the journal of a real home, the collector's ``drain``,
the SQLite store, and the ``orca`` CLI.
"""

import json
import sqlite3
from pathlib import Path
from typing import Any

import openai
from click.testing import CliRunner

from orca.capture import ListSink, Recorder
from orca.cli import cli
from orca.collector import Collector
from orca.integrations.openai import instrument, request_context
from orca.store import SQLiteStore, store_path
from orca.testing import FakeProvider, Reply

# Two secrets: one shaped like an API key (the journal's backstop would catch it anyway)
# and one the backstop cannot recognise, so only call-site masking can hide it.
HEADER_KEY = "sk-proj-Q9w8E7r6T5y4U3i2O1p0AsDfGhJk"
BODY_SECRET = "vault_7f3a9c2e81d64b5aa0e4"


def _secret_requests(fp: FakeProvider, parent: Any) -> None:
    client = instrument(
        openai.OpenAI(api_key=HEADER_KEY, base_url=fp.base_url, max_retries=0), parent=parent
    )
    body = {"password": BODY_SECRET, "metadata": {"note": "ok"}}
    client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], extra_body=body
    )
    try:  # an error body that echoes the key, as real providers' 401s do
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    except openai.AuthenticationError:
        pass


def _echo_401() -> Reply:
    return Reply.error(401, f"Incorrect API key provided: {HEADER_KEY}.", "invalid_api_key")


def test_call_site_masking_without_the_backstop() -> None:
    """A ListSink has no scrubber: the integration itself must have masked every secret."""
    sink = ListSink()
    rec = Recorder(sink)
    with FakeProvider([Reply(), _echo_401()]) as fp:
        _secret_requests(fp, rec.logger("agent").span("step"))
        sent = b"".join(r.body for r in fp.requests)
    assert BODY_SECRET.encode() in sent  # the provider really got the secret
    dump = json.dumps(sink.records, ensure_ascii=False)
    assert HEADER_KEY not in dump and BODY_SECRET not in dump
    assert "sk-…redacted…hJk" in dump  # masked, still present and diffable
    assert "vau…redacted…0e4" in dump


def test_secrets_never_reach_journal_or_store(home: Path) -> None:
    """Header API keys and body secrets are redacted: neither journal nor store holds them."""
    rec = Recorder.open(home, heartbeat_s=None)
    with FakeProvider([Reply(), _echo_401()]) as fp:
        step = rec.logger("agent").span("step")
        _secret_requests(fp, step)
        step.end()
    rec.close()
    with Collector(home) as collector:
        assert collector.drain().records > 0
    journal = b"".join(p.read_bytes() for p in (home / "journal").rglob("*") if p.is_file())
    assert b"provider.request" in journal
    for secret in (HEADER_KEY, BODY_SECRET):
        assert secret.encode() not in journal
    rows = _store_dump(home)
    assert b"provider.request" in rows and b"redacted" in rows
    for secret in (HEADER_KEY, BODY_SECRET):
        assert secret.encode() not in rows


def _store_dump(home: Path) -> bytes:
    """Every value of every row of every table, plus every body decompressed."""
    out: list[bytes] = []
    with sqlite3.connect(store_path(home)) as db:
        # Contentless FTS5 tables cannot be scanned; their shadow tables (the index) are.
        tables = [
            r[0]
            for r in db.execute("SELECT name, sql FROM sqlite_master WHERE type='table'")
            if not (r[1] or "").startswith("CREATE VIRTUAL TABLE")
        ]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                out.extend(v if isinstance(v, bytes) else str(v).encode() for v in row)
        hashes = [r[0] for r in db.execute("SELECT lower(hex(sha256)) FROM bodies")]
    store = SQLiteStore.open(home)
    try:
        for sha in hashes:
            out.append(store.get_body(sha) or b"")
    finally:
        store.close()
    return b"\n".join(out)


def test_key_order_cache_bust_is_found_by_orca_check(home: Path) -> None:
    """Two requests differing only in a tool schema's key order: different fingerprints, and
    ``orca check`` reports the bust with the first differing byte offset."""
    history = [
        {"role": "system", "content": "You are a careful assistant."},
        {"role": "user", "content": "What is in a.txt?"},
        {"role": "assistant", "content": "Let me look."},
        {"role": "user", "content": "Thanks."},
    ]
    schema_a = {"type": "object", "properties": {"path": {"type": "string"}}}
    schema_b = {"properties": {"path": {"type": "string"}}, "type": "object"}
    rec = Recorder.open(home, heartbeat_s=None)
    with FakeProvider() as fp:
        turn = rec.logger("agent").span("turn", {"gen_ai.conversation.id": "conv-7"})
        client = instrument(
            openai.OpenAI(api_key="sk-test-0000000000000000", base_url=fp.base_url, max_retries=0),
            parent=turn,
            conversation_id="conv-7",
        )
        for i, schema in enumerate((schema_a, schema_b)):
            tools = [{"type": "function", "function": {"name": "read", "parameters": schema}}]
            with request_context(cache_send="warm" if i == 0 else "real"):
                client.chat.completions.create(model="gpt-4o", messages=history, tools=tools)
        bodies = [r.body for r in fp.requests]
        turn.end()
    rec.close()
    with Collector(home) as collector:
        collector.drain()
    offset = next(i for i, (x, y) in enumerate(zip(*bodies, strict=False)) if x != y)
    store = SQLiteStore.open(home)
    try:
        spans = [s for s in store.find_spans(name="provider.request")]
        fps = {s.attrs["orca.prefix.fingerprint"] for s in spans}
        assert len(spans) == 2 and len(fps) == 2
        assert [s.attrs["orca.cache.send"] for s in spans] == ["warm", "real"]
        trace_id = spans[0].trace_id
    finally:
        store.close()
    result = CliRunner().invoke(cli, ["check", trace_id, "--home", str(home), "--json"])
    doc = json.loads(result.output)
    bust = next(c for c in doc["checks"] if c["name"] == "cache-bust")
    assert not bust["passed"]
    (finding,) = bust["findings"]
    assert "conv-7" in finding["message"]
    assert f"first differing byte at offset {offset}" in finding["message"]


# Shapes the backstop must catch (issue 9 item 7), each with a value no other rule would.
SHAPED = {
    "nested": "dXNlcjpuZXN0ZWRzZWNyZXQ=",  # Basic credential inside a stringified dict
    "upper": "UPPERCASEFIELDSECRET42",  # AUTHORIZATION: Token …
    "lower_scheme": "lowerbearertoken1234567",  # bearer …
    "basic": "YWxpY2U6YmFzaWNwYXNzd29yZA==",  # Basic … in a log message
}
ARGV_SECRETS = {
    "--password=": "argvpassword12345",
    "--token": "argvtokenvalue67890",
    "--api-key=": "argvapikey24680abcd",
    "MY_SERVICE_KEY=": "envstylekey13579xyz",
}
ARGV_CHILD = """
import os, sys
from orca.capture import Recorder
s = os.environ["SHAPED"].split()
rec = Recorder.open(sys.argv[1], heartbeat_s=None)
log = rec.logger("agent")
with log.span("turn", attrs={"headers": {"Authorization": "Basic " + s[0]},
                             "AUTHORIZATION": "Token " + s[1]}) as span:
    span.log.info("calling with bearer " + s[2])
    span.log.warn("retry with Basic " + s[3])
rec.close()
"""


def test_item07_secret_shapes_never_reach_disk(home: Path, tmp_path: Path) -> None:
    """Nested headers, upper-case names, lower-case schemes, Basic, and the command line."""
    import os
    import subprocess
    import sys

    script = tmp_path / "agent.py"
    script.write_text(ARGV_CHILD)
    argv = [sys.executable, str(script), str(home)]
    for flag, value in ARGV_SECRETS.items():
        argv += [flag + value] if flag.endswith("=") else [flag, value]
    env = {**os.environ, "SHAPED": " ".join(SHAPED.values())}
    subprocess.run(argv, check=True, env=env)
    with Collector(home) as collector:
        assert collector.drain().records > 0
    everything = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    everything += _store_dump(home)
    assert b"redacted" in everything and b"--password=" in everything
    for secret in [*SHAPED.values(), *ARGV_SECRETS.values()]:
        assert secret.encode() not in everything, secret
