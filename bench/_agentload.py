"""An agent-shaped load with unique, realistic-entropy bodies (shared by the storage bench).

Why not a small vocabulary: text drawn from a few thousand words compresses
and indexes far better than real prompts do, which flatters every byte
figure. Here words come from a 30,000-word vocabulary with Zipf frequencies,
in sentences with numbers and hex ids; 2 KB of it compresses ~2.0x with
zstd level 3, as 2 KB windows of real English prose do (~2.1x on the GPL
text). Every body is generated fresh, so no two are alike.

One turn is 13 spans: ``turn``, then 4 x (``prompt.assembly``, ``step`` — an
LLM span with a ~2 KB prompt as its request body and a ~400 B response —,
``tool-call``), and two log lines.
"""

import bisect
import itertools
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_SYL = [
    "a",
    "an",
    "ar",
    "be",
    "ca",
    "co",
    "de",
    "di",
    "e",
    "en",
    "er",
    "es",
    "fo",
    "ga",
    "he",
    "i",
    "in",
    "is",
    "ka",
    "la",
    "le",
    "li",
    "lo",
    "ma",
    "me",
    "mi",
    "mo",
    "na",
    "ne",
    "no",
    "o",
    "on",
    "or",
    "pa",
    "pe",
    "pi",
    "po",
    "ra",
    "re",
    "ri",
    "ro",
    "sa",
    "se",
    "si",
    "so",
    "ta",
    "te",
    "ti",
    "to",
    "tu",
    "u",
    "un",
    "ur",
    "va",
    "ve",
    "wa",
    "we",
    "ya",
    "yo",
    "ze",
    "th",
    "st",
    "ch",
    "sh",
    "qu",
    "x",
]


def _vocabulary(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < n:
        out.add("".join(rng.choice(_SYL) for _ in range(rng.choice((1, 1, 2, 2, 2, 3, 3, 4)))))
    words = sorted(out)
    rng.shuffle(words)
    return words


VOCAB = _vocabulary(30_000)
_CUM = list(itertools.accumulate(1 / (i + 1) ** 1.05 for i in range(len(VOCAB))))


def words(rng: random.Random, k: int) -> list[str]:
    top = _CUM[-1]
    return [VOCAB[bisect.bisect(_CUM, rng.random() * top)] for _ in range(k)]


def text(rng: random.Random, nbytes: int) -> str:
    """About ``nbytes`` of fresh sentence-shaped text."""
    out: list[str] = []
    size = 0
    while size < nbytes:
        n = rng.randint(6, 18)
        s = words(rng, n)
        if rng.random() < 0.15:
            s[rng.randrange(n)] = str(rng.randint(0, 99999))
        if rng.random() < 0.05:
            s[rng.randrange(n)] = f"{rng.getrandbits(32):08x}"
        sentence = " ".join(s).capitalize() + rng.choice(".....?!,")
        out.append(sentence)
        size += len(sentence) + 1
    return " ".join(out)[:nbytes]


def hexid(rng: random.Random, ms: int, n: int) -> str:
    if n == 32:
        return f"{ms & 0xFFFFFFFFFFFF:012x}{rng.getrandbits(80) | 1:020x}"
    return f"{(((ms * 10**6 >> 34) & 0xFF) << 56 | rng.getrandbits(56)) | 1:016x}"


def turn_records(rng: random.Random, ts: int, conv: str, turn: int) -> list[dict[str, Any]]:
    """The records of one 13-span turn starting at ``ts`` (opens, logs, closes)."""
    ms = ts // 10**6
    trace = hexid(rng, ms, 32)
    root = hexid(rng, ms, 16)
    base = {"v": 1, "component": "agent", "trace": trace}
    recs: list[dict[str, Any]] = [
        {
            **base,
            "kind": "span-open",
            "ts": ts,
            "span": root,
            "name": "turn",
            "attrs": {
                "gen_ai.conversation.id": conv,
                "gen_ai.agent.name": "support",
                "orca.turn.index": turn,
            },
        }
    ]
    closes: list[dict[str, Any]] = []
    for k in range(4):
        for name in ("prompt.assembly", "step", "tool-call"):
            ts += rng.randint(1_000, 50_000)
            span = hexid(rng, ms, 16)
            attrs: dict[str, Any] = {"orca.step": k}
            close: dict[str, Any] = {
                **base,
                "kind": "span-close",
                "span": span,
                "status": "ok" if rng.random() < 0.98 else "error",
            }
            rec: dict[str, Any] = {
                **base,
                "kind": "span-open",
                "ts": ts,
                "span": span,
                "parent": root,
                "name": name,
                "attrs": attrs,
            }
            if name == "step":
                attrs["gen_ai.operation.name"] = "chat"
                attrs["gen_ai.request.model"] = rng.choice(("gpt-4o", "claude-sonnet-4"))
                rec["body"] = text(rng, rng.randint(1_800, 2_300))
                close["body"] = text(rng, rng.randint(250, 550))
                close["attrs"] = {
                    "gen_ai.usage.input_tokens": rng.randint(400, 900),
                    "gen_ai.usage.output_tokens": rng.randint(40, 200),
                    "orca.cost.usd": round(rng.random() / 100, 6),
                }
            elif name == "tool-call":
                tool = rng.choice(("lookup_order", "refund", "search_kb", "send_email"))
                attrs["gen_ai.tool.name"] = tool
                attrs["gen_ai.tool.call.id"] = f"call_{rng.getrandbits(48):012x}"
                attrs["orca.tool.args"] = " ".join(words(rng, rng.randint(2, 6)))
            else:
                attrs["orca.prompt.parts"] = rng.randint(2, 9)
            recs.append(rec)
            if name == "tool-call" and k % 2 == 0:
                recs.append(
                    {
                        **base,
                        "kind": "log",
                        "ts": ts + 10,
                        "level": "info",
                        "msg": f"{attrs['gen_ai.tool.name']}: " + " ".join(words(rng, 8)),
                        "span": span,
                    }
                )
            close["ts"] = ts + rng.randint(10_000, 3_000_000)
            closes.append(close)
    recs.extend(closes)
    recs.append(
        {**base, "kind": "span-close", "ts": closes[-1]["ts"] + 1, "span": root, "status": "ok"}
    )
    return recs


def turns(spans: int, seed: int, t0: int | None = None) -> Iterator[dict[str, Any]]:
    """Records of ``spans // 13`` turns across conversations of 10 turns each."""
    rng = random.Random(seed)
    ts = (time.time_ns() - 3600 * 10**9) if t0 is None else t0
    for n in range(max(spans // 13, 1)):
        ts += 20_000_000
        yield from turn_records(rng, ts, f"conv-{n // 10}", n % 10)


def write_journal(home: Path, spans: int, seed: int = 11) -> int:
    """Write the load through the real journal sink; returns the journal's bytes."""
    from orca.journal import JournalSink, list_segments

    sink = JournalSink(home / "journal", heartbeat_s=None)
    for rec in turns(spans, seed):
        sink.emit(rec)
    sink.close()
    return sum(path.stat().st_size for _, path in list_segments(home / "journal"))
