"""The OpenAI Agents SDK recorded through OrcaTracingProcessor, against the fake provider.

Real parts: the SDK's own Runner and trace provider, an instrumented
``AsyncOpenAI`` client talking Chat Completions to the fake provider on
loopback, a real journal in a temporary home, the collector and the store.
"""

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from agents import (
    Agent,
    GuardrailFunctionOutput,
    OpenAIChatCompletionsModel,
    Runner,
    function_tool,
    input_guardrail,
    set_trace_processors,
)
from click.testing import CliRunner

from orca.capture import ListSink, Recorder
from orca.cli import cli
from orca.collector import Collector
from orca.integrations.openai import instrument
from orca.integrations.openai_agents import OrcaTracingProcessor
from orca.query import render_plain, skeleton
from orca.store import CRASH_SPAN_NAME, SpanRow, SQLiteStore
from orca.testing import FakeProvider, Reply

KEY = "sk-agents-test-0000000000000000"
HANDOFF_CALL = "call_handoff_1"
TOOL_CALL = "call_weather_1"


def _script() -> list[Reply]:
    return [
        Reply(
            "", tool_calls=[{"id": HANDOFF_CALL, "name": "transfer_to_weather", "arguments": "{}"}]
        ),
        Reply(
            "",
            tool_calls=[{"id": TOOL_CALL, "name": "get_weather", "arguments": '{"city": "Oslo"}'}],
        ),
        Reply("It is sunny in Oslo."),
    ]


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@input_guardrail
def polite(ctx: Any, agent: Any, text: Any) -> GuardrailFunctionOutput:
    """A guardrail that never trips (its span is recorded all the same)."""
    return GuardrailFunctionOutput(output_info="fine", tripwire_triggered=False)


def _agents(client: openai.AsyncOpenAI) -> Agent[Any]:
    model = OpenAIChatCompletionsModel(model="gpt-4o", openai_client=client)
    weather = Agent(name="weather", instructions="Answer weather questions.", model=model)
    weather.tools = [get_weather]
    return Agent(
        name="triage",
        instructions="Route the user.",
        handoffs=[weather],
        model=model,
        input_guardrails=[polite],
    )


@pytest.fixture
def processors() -> Iterator[None]:
    """Leave the SDK's global processor list empty after each test (no exporter thread)."""
    yield
    set_trace_processors([])


def _run(processor: OrcaTracingProcessor, fp: FakeProvider, instrumented: bool) -> str:
    set_trace_processors([processor])

    async def main() -> str:
        client = openai.AsyncOpenAI(api_key=KEY, base_url=fp.base_url, max_retries=0)
        if instrumented:
            client = instrument(client)  # no parent: the SDK's step names it per request
        try:
            result = await Runner.run(_agents(client), "Weather in Oslo?")
        finally:
            await client.close()
        return str(result.final_output)

    return asyncio.run(main())


def _collect(home: Path) -> tuple[str, list[SpanRow], str]:
    with Collector(home) as collector:
        collector.drain()
    store = SQLiteStore.open(home)
    try:
        (summary,) = store.list_traces()
        trace = store.get_trace(summary.trace_id)
        assert trace is not None
        return summary.trace_id, trace.spans, render_plain(skeleton(trace))
    finally:
        store.close()


def test_two_agents_handoff_and_tool_call_make_one_skeleton(home: Path, processors: None) -> None:
    """Both agents, the handoff (with its link) and the tool call under the step that asked."""
    rec = Recorder.open(home, heartbeat_s=None)
    with FakeProvider(_script()) as fp:
        answer = _run(OrcaTracingProcessor(rec.logger("agents")), fp, instrumented=True)
        wire = [r.body for r in fp.requests]
    rec.close()
    assert answer == "It is sunny in Oslo."
    trace_id, spans, text = _collect(home)
    by_name: dict[str, list[SpanRow]] = {}
    for s in spans:
        by_name.setdefault(s.name, []).append(s)
    ids = {s.span_id: s for s in spans}
    (turn,) = by_name["turn"]
    assert turn.parent_id is None and turn.status == "ok"
    assert [a.attrs["gen_ai.agent.name"] for a in by_name["agent"]] == ["triage", "weather"]
    steps = by_name["step"]
    requests = by_name["provider.request"]
    assert len(steps) == len(requests) == 3
    # Each provider.request nests under its step, with the bytes the server received.
    for step, req, body in zip(steps, requests, wire, strict=True):
        assert req.parent_id == step.span_id
        assert "gen_ai.usage.input_tokens" not in step.attrs  # the request carries the tokens
        assert step.attrs["orca.agents.provider_requests"] == 1
        assert req.request_body_bytes == len(body)
    (tool,) = by_name["tool-call"]
    assert tool.attrs["gen_ai.tool.name"] == "get_weather"
    assert tool.attrs["gen_ai.tool.call.id"] == TOOL_CALL
    assert ids[tool.parent_id or ""].span_id == steps[1].span_id  # the step that asked for it
    (handoff,) = by_name["handoff"]
    assert handoff.parent_id == steps[0].span_id
    assert handoff.attrs["gen_ai.tool.call.id"] == HANDOFF_CALL
    assert (handoff.attrs["orca.handoff.from"], handoff.attrs["orca.handoff.to"]) == (
        "triage",
        "weather",
    )
    store = SQLiteStore.open(home)
    try:
        links = store.span_links(handoff.span_id)
        answers = store.span_links(tool.span_id)
    finally:
        store.close()
    weather_agent = by_name["agent"][1]
    assert any(lk.reason == "handoff" and lk.to_span_id == weather_agent.span_id for lk in links)
    assert any(lk.reason == "answers" and lk.to_span_id == requests[1].span_id for lk in answers)
    (guard,) = by_name["guardrail"]
    assert guard.attrs["orca.guardrail.name"] == "polite"
    assert guard.attrs["orca.guardrail.triggered"] is False
    lines = text.splitlines()
    assert any("agent triage" in ln for ln in lines) and any("agent weather" in ln for ln in lines)
    handoff_line = next(ln for ln in lines if "handoff triage → weather" in ln)
    assert f"⇢ {weather_agent.span_id[:8]}" in handoff_line
    step_line = next(i for i, ln in enumerate(lines) if ln.startswith(steps[1].span_id[:8]))
    tool_line = next(i for i, ln in enumerate(lines) if "tool get_weather" in ln)
    indent = len(lines[tool_line]) - len(lines[tool_line][9:].lstrip())
    assert tool_line > step_line and indent > len(lines[step_line]) - len(
        lines[step_line][9:].lstrip()
    )
    check = CliRunner().invoke(cli, ["check", trace_id, "--home", str(home), "--json"])
    verdicts = {c["name"]: c for c in json.loads(check.output)["checks"]}
    assert verdicts["orphan-tool-call"]["passed"], verdicts["orphan-tool-call"]
    assert verdicts["unfinished-span"]["passed"]


def test_without_an_instrumented_client_the_step_carries_usage_and_requests() -> None:
    """SDK spans alone: the step has the tokens and the requested call ids; inputs recorded."""
    sink = ListSink()
    rec = Recorder(sink)
    with FakeProvider(_script()) as fp:
        _run(OrcaTracingProcessor(rec.logger("agents")), fp, instrumented=False)
    set_trace_processors([])
    closes = {r["span"]: r for r in sink.records if r["kind"] == "span-close"}
    opens = [r for r in sink.records if r["kind"] == "span-open"]
    assert "provider.request" not in {r["name"] for r in opens}
    steps = [r for r in opens if r["name"] == "step"]
    first = closes[steps[0]["span"]]
    assert first["attrs"]["orca.tool_calls.requested"] == HANDOFF_CALL
    assert first["attrs"]["gen_ai.usage.input_tokens"] > 0
    assert json.loads(first["body"])["input"][0]["content"] == "Route the user."
    # every span that opened was closed, in a record of its own
    assert {r["span"] for r in opens} == set(closes)


def test_record_data_false_keeps_prompts_and_tool_io_out() -> None:
    """With record_data=False no body carries the conversation; parent= nests the run."""
    sink = ListSink()
    rec = Recorder(sink)
    outer = rec.logger("app").span("request")
    with FakeProvider(_script()) as fp:
        processor = OrcaTracingProcessor(parent=outer, record_data=False)
        _run(processor, fp, instrumented=False)
    set_trace_processors([])
    dump = json.dumps(sink.records)
    assert "Route the user." not in dump and "sunny in Oslo" not in dump
    assert processor.errors == 0
    (turn,) = [r for r in sink.records if r["kind"] == "span-open" and r["name"] == "turn"]
    assert turn["parent"] == outer.span_id and turn["trace"] == outer.trace_id


def test_processor_needs_a_logger_or_parent() -> None:
    """Constructing with nowhere to record is a clear error, not a silent no-op."""
    from orca.integrations.openai import InstrumentError

    with pytest.raises(InstrumentError, match="logger"):
        OrcaTracingProcessor()


_KILLED_RUN = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    import openai
    from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool
    from agents import set_trace_processors
    from orca.capture import Recorder
    from orca.integrations.openai import instrument
    from orca.integrations.openai_agents import OrcaTracingProcessor

    @function_tool
    def get_weather(city: str) -> str:
        '''The weather in a city.'''
        os.kill(os.getpid(), signal.SIGKILL)  # the process dies inside the tool call
        return "never"

    rec = Recorder.open(sys.argv[2], heartbeat_s=None)
    set_trace_processors([OrcaTracingProcessor(rec.logger("agents"))])
    client = instrument(openai.AsyncOpenAI(api_key="sk-x-00000000000000", base_url=sys.argv[1]))
    model = OpenAIChatCompletionsModel(model="gpt-4o", openai_client=client)
    agent = Agent(name="weather", instructions="w", tools=[get_weather], model=model)
    asyncio.run(Runner.run(agent, "Weather in Oslo?"))
    """
)


@pytest.mark.slow
def test_sigkill_mid_run_leaves_open_spans_and_a_crash_span(home: Path) -> None:
    """Killed inside a tool: turn, agent and tool-call stay unfinished; a crash span says so."""
    call = {"id": TOOL_CALL, "name": "get_weather", "arguments": '{"city": "Oslo"}'}
    script = [Reply("", tool_calls=[call])]
    with FakeProvider(script) as fp:
        proc = subprocess.run(
            [sys.executable, "-c", _KILLED_RUN, fp.base_url, str(home)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "OPENAI_AGENTS_DISABLE_TRACING": "0"},
        )
    assert proc.returncode == -9, proc.stderr
    _, spans, text = _collect(home)
    status = {s.name: s.status for s in spans if not s.synthetic}
    for name in ("turn", "agent", "agents.turn", "tool-call"):
        assert status[name] == "unfinished", (name, status)
    assert status["step"] == "ok" and status["provider.request"] == "ok"
    crash = [s for s in spans if s.synthetic and s.name == CRASH_SPAN_NAME]
    assert len(crash) == 1
    assert "⚠ unfinished" in text and "tool get_weather" in text


def test_span_data_is_read_from_chat_and_responses_shapes() -> None:
    """Tool calls come from Chat Completions dicts and from Responses API output items alike."""
    from types import SimpleNamespace

    from orca.integrations._agents_data import calls_of, usage_attrs

    chat = {"output": [{"tool_calls": [{"id": "c1", "function": {"name": "f"}}]}]}
    item = SimpleNamespace(type="function_call", call_id="c2", name="g")
    other = SimpleNamespace(type="message", call_id=None, name=None)
    responses = SimpleNamespace(response=SimpleNamespace(output=[other, item]))
    assert calls_of("generation", chat) == [("c1", "f")]
    assert calls_of("response", responses) == [("c2", "g")]
    assert calls_of("response", SimpleNamespace(response=None)) == []
    usage = {"input_tokens": 5, "output_tokens": 2, "cached_input_tokens": 3, "x": True}
    assert usage_attrs(usage, "gen_ai.usage") == {
        "gen_ai.usage.input_tokens": 5,
        "gen_ai.usage.output_tokens": 2,
        "gen_ai.usage.cache_read.input_tokens": 3,
    }


@function_tool
def broken(city: str) -> str:
    """A tool that fails."""
    raise RuntimeError(f"no station in {city}")


def test_a_failing_tool_closes_its_span_as_failed() -> None:
    """The SDK reports the tool's error on its span: the ORCA tool-call closes with status error."""
    sink = ListSink()
    rec = Recorder(sink)
    call = {"id": TOOL_CALL, "name": "broken", "arguments": '{"city": "Oslo"}'}
    set_trace_processors([OrcaTracingProcessor(rec.logger("agents"))])

    async def main() -> None:
        with FakeProvider([Reply("", tool_calls=[call]), Reply("Sorry.")]) as fp:
            client = openai.AsyncOpenAI(api_key=KEY, base_url=fp.base_url, max_retries=0)
            model = OpenAIChatCompletionsModel(model="gpt-4o", openai_client=client)
            try:
                await Runner.run(Agent(name="w", tools=[broken], model=model), "Oslo?")
            finally:
                await client.close()

    asyncio.run(main())
    set_trace_processors([])
    opens = {r["span"]: r for r in sink.records if r["kind"] == "span-open"}
    (tool,) = [
        r
        for r in sink.records
        if r["kind"] == "span-close" and opens[r["span"]]["name"] == "tool-call"
    ]
    assert tool["status"] == "error"
    # the SDK's own words (it redacts the details); what the model was told is the body
    assert tool["attrs"]["exception.message"].startswith("Error running tool")
    assert "error occurred while running the tool" in json.loads(tool["body"])["output"]
    assert opens[tool["span"]]["attrs"]["gen_ai.tool.call.id"] == TOOL_CALL
