"""Payloads above the inline limit travel by reference: the ledger commits to a blob address."""

import random
from pathlib import Path

import orjson
from click.testing import CliRunner
from tests.orchestrator.conftest import SEED, entries, task_env

from orca.blobs import BlobStore, refs_in
from orca.cli import cli
from orca.ledger import ledger_path
from orca.orchestrator import Orchestrator, Task, TaskContext, VirtualClock

MB = 1024 * 1024


def _big(seed: int, mb: int = 3) -> dict[str, str]:
    return {"document": random.Random(seed).randbytes(mb * MB // 2).hex()}


def test_a_big_payload_goes_by_reference_and_arrives_whole(orch: Orchestrator, home: Path) -> None:
    """The entry holds a blob reference (a few hundred bytes); the agent and the caller get
    the payload itself."""
    payload = _big(1)
    seen: list[object] = []

    @orch.agent("billing")
    def billing(task: Task, ctx: TaskContext) -> None:
        seen.append(task.payload)
        ctx.submit(id=f"{task.id}/answer", kind="agent_result", recipient=None, payload=payload)

    run = orch.start_run("support")
    orch.submit({**task_env(run.id), "payload": payload})
    orch.run_until_idle(timeout=30, inline=True)
    assert seen == [payload]
    assert orch.fetch_result(run).payload == payload
    accepted = [e for e in entries(home) if e.kind == "envelope.accepted"]
    assert [e.args["payload_by_ref"] for e in accepted] == [True, True]
    (address,) = refs_in(accepted[0].args["payload"])
    assert BlobStore.open(home, create=False).exists(address)
    assert ledger_path(home).stat().st_size < 64 * 1024  # 6 MB of payloads, none in the ledger


def test_small_payloads_stay_inline(orch: Orchestrator, home: Path) -> None:
    """Below the limit nothing changes: the payload is in the entry, no blob store is made."""
    run = orch.start_run("support")
    orch.submit(task_env(run.id))
    (e,) = [e for e in entries(home) if e.kind == "envelope.accepted"]
    assert e.args["payload"] == {"order": "A-17"} and "payload_by_ref" not in e.args
    assert not (home / "blobs").exists()


def test_reference_survives_reopening(home: Path, clock: VirtualClock) -> None:
    """A pending task's payload is read from its blob after a restart (state is a fold)."""
    payload = _big(2, mb=1)
    with Orchestrator.open(home, clock=clock, seed=SEED) as orch:
        run = orch.start_run("support")
        orch.submit({**task_env(run.id), "payload": payload})
    seen: list[object] = []
    with Orchestrator.open(home, clock=clock, seed=SEED) as orch:

        @orch.agent("billing")
        def billing(task: Task, ctx: TaskContext) -> None:
            seen.append(task.payload)

        orch.run_until_idle(timeout=30, inline=True)
    assert seen == [payload]


def test_forget_deletes_the_payload_blob_and_the_ledger_verifies(
    home: Path, clock: VirtualClock
) -> None:
    """`orca ledger forget` erases the reference and deletes the blob (nothing else refers to
    it); `orca verify` passes (payload erased, commitment intact)."""
    with Orchestrator.open(home, clock=clock, seed=SEED, payload_inline_max=1024) as orch:
        run = orch.start_run("support")
        orch.submit({**task_env(run.id), "payload": _big(3, mb=1)})
    (e,) = [e for e in entries(home) if e.kind == "envelope.accepted"]
    (address,) = refs_in(e.args["payload"])
    blobs = BlobStore.open(home, create=False)
    runner = CliRunner()
    kept = runner.invoke(cli, ["blobs", "gc", "--home", str(home), "--grace", "0s"])
    assert kept.exit_code == 0 and blobs.exists(address), kept.output
    forgot = runner.invoke(cli, ["ledger", "forget", str(e.id), "--home", str(home)])
    assert forgot.exit_code == 0 and "payload erased; 1 blob(s) deleted" in forgot.output
    assert not blobs.exists(address)
    gone = runner.invoke(cli, ["blobs", "gc", "--home", str(home), "--grace", "0s"])
    assert gone.exit_code == 0 and "removed 0 blobs" in gone.output
    verified = runner.invoke(cli, ["verify", "--home", str(home)])
    assert verified.exit_code == 0, verified.output


def test_forget_keeps_a_blob_another_entry_still_references(
    home: Path, clock: VirtualClock
) -> None:
    """Two envelopes with one big payload share a blob: forgetting one keeps it for the other."""
    payload = _big(4, mb=1)
    with Orchestrator.open(home, clock=clock, seed=SEED) as orch:
        run = orch.start_run("support")
        orch.submit({**task_env(run.id, id="e-1"), "payload": payload})
        orch.submit({**task_env(run.id, id="e-2"), "payload": payload})
    first, second = [e for e in entries(home) if e.kind == "envelope.accepted"]
    (address,) = refs_in(first.args["payload"])
    assert list(refs_in(second.args["payload"])) == [address]
    forgot = CliRunner().invoke(cli, ["ledger", "forget", str(first.id), "--home", str(home)])
    assert forgot.exit_code == 0 and "deleted" not in forgot.output
    assert BlobStore.open(home, create=False).read(address) == orjson.dumps(payload)
