"""Items 13 and 16: journal cat/ls, and the one-line fixes to misleading output."""

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from orca.capture import Recorder
from orca.cli import cli
from orca.collector import Collector
from orca.ledger import Ledger


def _orca(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*args, "--home", str(home)])
    return result.exit_code, result.stdout, result.stderr


def _home_with_spans(home: Path) -> dict[str, str]:
    with Recorder.open(home, heartbeat_s=None) as rec:
        log = rec.logger("t")
        turn = log.span("turn")
        a = turn.child("blob", body=b"\xff\x00\x01binary-a")
        a.end(body="r" * 300)
        b = turn.child("blob", body=b"\xfe\x00\x02binary-bb")
        b.end()
        turn.end()
    with Collector(home) as c:
        c.drain()
    return {"a": a.span_id, "b": b.span_id, "turn": turn.trace_id}


def test_item13_journal_cat_prints_valid_records_and_raw(home: Path) -> None:
    """Garbage lines are skipped (counted on stderr) unless --raw; a prefix selects a segment."""
    with Recorder.open(home, heartbeat_s=None) as rec:
        rec.logger("t").span("turn").end()
    [seg] = (home / "journal").iterdir()
    with seg.open("ab") as f:
        f.write(b"not json\n\xff\xfe binary\n")
    code, out, err = _orca(home, "journal", "cat", seg.name[:8])
    assert code == 0 and "not json" not in out and "skipped 2 invalid" in err
    assert all(json.loads(line) for line in out.splitlines())
    code, out, _ = _orca(home, "journal", "cat", "--raw", seg.name)
    assert code == 0 and "not json" in out
    code, out, _ = _orca(home, "journal", "cat", "--json")
    assert code == 0 and json.loads(out)["skipped"] == 2


def test_item13_unknown_segment_fails_cleanly(home: Path) -> None:
    """An unknown segment is exit 2 and one line, not silence and exit 0."""
    with Recorder.open(home, heartbeat_s=None):
        pass
    code, _, err = _orca(home, "journal", "cat", "999-nope")
    assert code == 2 and "no journal segment" in err and len(err.splitlines()) == 1


def test_item13_journal_ls_shows_whole_names(home: Path) -> None:
    """`journal ls` never truncates the names `journal cat` needs, even in a narrow terminal."""
    with Recorder.open(home, heartbeat_s=None):
        pass
    [seg] = (home / "journal").iterdir()
    done = subprocess.run(
        [sys.executable, "-m", "orca", "journal", "ls", "--home", str(home)],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "40"}, check=True,
    )  # fmt: skip
    assert seg.name in done.stdout


def test_item16_prove_missing_entry_says_so(home: Path) -> None:
    """`ledger prove 99` on a 1-entry ledger: no such entry, not "run ledger checkpoint"."""
    with Ledger.open(home) as led:
        led.append({"kind": "k"})
    code, _, err = _orca(home, "ledger", "prove", "99")
    assert code == 2 and "no entry 99" in err and "checkpoint" not in err


def test_item16_max_bytes_hint_covers_both_bodies(home: Path) -> None:
    """The "shows all" hint gives a budget that really shows both bodies."""
    ids = _home_with_spans(home)
    code, out, _ = _orca(home, "span", ids["a"], "--max-bytes", "10")
    hint = int(out.split("--max-bytes ")[1].split()[0])
    code, out, _ = _orca(home, "span", ids["a"], "--max-bytes", str(hint))
    assert code == 0 and "left out" not in out


def test_item16_binary_diff_names_bytes_not_lines(home: Path) -> None:
    """`orca diff` of binary bodies does not claim `+0 -0 lines`."""
    ids = _home_with_spans(home)
    _, out, _ = _orca(home, "diff", ids["a"], ids["b"])
    assert "+0 -0 lines" not in out and "binary bodies" in out


def test_item16_stats_by_model_without_models(home: Path) -> None:
    """Grouping by a key no span carries says so, not "no spans in this window"."""
    _home_with_spans(home)
    code, out, _ = _orca(home, "stats", "--by", "model")
    assert code == 0 and "no spans with a model" in out


def test_item16_pin_last(home: Path) -> None:
    """`orca pin last` works as docs/query.md says."""
    ids = _home_with_spans(home)
    code, out, err = _orca(home, "pin", "last", "--json")
    assert code == 0, err
    assert json.loads(out) == {"trace": ids["turn"], "pinned": True}


def test_item16_one_word_for_a_dead_writer(home: Path, tmp_path: Path) -> None:
    """`journal ls` and `status` both say `crashed` for a writer gone without an exit record."""
    script = tmp_path / "die.py"
    script.write_text(
        "import os, signal, sys, orca\n"
        "orca.Recorder.open(sys.argv[1], heartbeat_s=None).logger('x').span('t')\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    subprocess.run([sys.executable, str(script), str(home)], check=False)
    _, ls, _ = _orca(home, "journal", "ls", "--json")
    _, status, _ = _orca(home, "status", "--json")
    assert json.loads(ls)[0]["writer"] == "crashed"
    assert json.loads(status)["segments"][0]["writer"] == "crashed"


def test_item16_corrupt_store_hints_at_rebuilding(home: Path) -> None:
    """A store that is not SQLite: one line pointing at rebuilding from the journal."""
    _home_with_spans(home)
    (home / "store.sqlite").write_bytes(b"garbage" * 100)
    for name in ("store.sqlite-wal", "store.sqlite-shm"):
        (home / name).unlink(missing_ok=True)
    code, _, err = _orca(home, "traces")
    assert code == 2 and "orca collect --once" in err and len(err.splitlines()) == 1
