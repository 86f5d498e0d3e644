"""Nothing on disk holds the secrets a governed run saw: journal, ledger, store, every file."""

import sqlite3
from pathlib import Path
from typing import Any

import openai
import pytest

from orca.capture import Recorder
from orca.collector import Collector, CollectorConfig
from orca.governance import BudgetBook, Guard, Policy, PolicyDenied, PolicyEngine, parse_policy
from orca.integrations.openai import instrument
from orca.ledger import Action, Ledger
from orca.orchestrator import Governance, Orchestrator, Task, TaskContext
from orca.store import open_store
from orca.testing import FakeProvider

SECRETS = {
    "card": "4111 1111 1111 1111",
    "email": "ceo@bigcorp.example",
    "ssn": "219-09-9999",
    "key": "sk-proj-TopSecretKey0123456789abcdef",
    "iban": "GB82 WEST 1234 5698 7654 32",
}
POLICY = b"model_allowlist: [gpt-4o]\nrules: []\n"


def _all_bytes(home: Path) -> list[tuple[Path, bytes]]:
    """Every file under the home, plus every body and text column the store keeps (decompressed)."""
    out = [(p, p.read_bytes()) for p in home.rglob("*") if p.is_file()]
    store = open_store(home)
    try:
        for span in store.find_spans():
            for sha in (span.request_body, span.response_body):
                if sha:
                    out.append((Path(f"store-body:{sha}"), store.get_body(sha) or b""))
    finally:
        store.close()
    db = next(p for p in home.rglob("*.sqlite*") if p.suffix in (".sqlite", ".sqlite3"))
    conn = sqlite3.connect(db)
    # Contentless FTS5 tables cannot be scanned; their shadow tables (the index) are.
    tables = conn.execute(
        "select name from sqlite_master where type='table'"
        " and coalesce(sql, '') not like 'CREATE VIRTUAL TABLE%'"
    ).fetchall()
    for (table,) in tables:
        for row in conn.execute(f'select * from "{table}"'):
            out.append((Path(f"table:{table}"), repr(row).encode()))
    conn.close()
    return out


def _orchestrated(home: Path, text: str) -> None:
    """The same secrets through the orchestrator: one envelope accepted (redacted), one denied."""
    (home / "policy.yaml").write_text(
        "model_allowlist: [gpt-4o]\nrules:\n  - {name: no-wire, phase: pre_submit, action: deny,"
        " match: {payload: [{path: $.kind, equals: wire}]}}\n"
    )
    gov = Governance.open(home, watch=False)
    with Orchestrator.open(home, seed=3, policy=gov, budget=gov) as orch:
        gov.bind(orch)

        @orch.agent("billing")
        def billing(task: Task, ctx: TaskContext) -> Any:
            ctx.log.info("handling", attrs={"note": task.payload["note"]})
            return {"echo": task.payload["note"]}

        run = orch.start_run("support", metadata={"contact": SECRETS["email"]})
        env = {"run": run.id, "kind": "agent_task", "sender": "triage", "recipient": "billing"}
        orch.submit({**env, "id": "e-1", "payload": {"kind": "refund", "note": text}})
        with pytest.raises(PolicyDenied):
            orch.submit({**env, "id": "e-2", "payload": {"kind": "wire", "note": text}})
        orch.run_until_idle(timeout=30)
        orch.end_run(run)


@pytest.mark.slow
def test_no_seeded_secret_reaches_any_file_under_the_home(home: Path) -> None:
    """Provider calls and envelopes carrying every kind of secret leave none of them in the
    journal, the ledger or the store (bodies and tables), only placeholders."""
    loaded = parse_policy(POLICY)
    engine = PolicyEngine(Policy(loaded.doc, sha256=loaded.sha256))
    ledger = Ledger.open(home)
    rec = Recorder.open(home, heartbeat_s=None)

    def audit(kind: str, payload: dict[str, Any]) -> None:
        ledger.append(Action(kind=kind, run="run-1", actor="writer", meta=payload))

    book = BudgetBook()
    book.set_budget("run-1", {"total_tokens": 100_000})
    guard = Guard(engine, book, run="run-1", agent="writer", audit=audit)
    text = "; ".join(f"{k} {v}" for k, v in SECRETS.items())
    with FakeProvider() as fp:
        step = rec.logger("agent").span("step")
        client = instrument(
            openai.OpenAI(api_key="sk-test-notsecret0000", base_url=fp.base_url, max_retries=0),
            parent=step,
            governor=guard,
        )
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": text}])
        with pytest.raises(PolicyDenied):
            client.chat.completions.create(
                model="gpt-3", messages=[{"role": "user", "content": text}]
            )
        step.end()
        sent = fp.requests[0].body
    rec.close()
    ledger.close()
    _orchestrated(home, text)
    with Collector(home, CollectorConfig()) as collector:
        collector.drain()
    for secret in SECRETS.values():
        assert secret.encode() not in sent  # redacted before it left the process
    kinds = [e.kind for e in Ledger.open(home).entries()]
    assert "policy.decision" in kinds and "budget.settled" in kinds
    files = _all_bytes(home)
    assert any(name.name.endswith(".ndjson") for name, _ in files)
    for name, data in files:
        for kind, secret in SECRETS.items():
            assert secret.encode() not in data, f"{kind} found in {name}"
    assert any(b"[CARD_1]" in data for _, data in files)  # the placeholder is what was kept
