"""Span names and attribute spellings between OpenTelemetry's conventions and ORCA's.

Ingest: the OTel GenAI semantic conventions (``gen_ai.operation.name``, span
names ``chat {model}``, ``execute_tool {name}``, ``invoke_agent {name}``) and
OpenInference (``openinference.span.kind``, ``llm.*``, ``session.id``) map to
ORCA's span kinds and GenAI attribute names. Export: the reverse, so GenAI-aware
backends (Phoenix, Jaeger, …) show ORCA's spans under the names they expect.

An ORCA-exported span carries ``orca.span.name`` (its ORCA name) and
``orca.otel.added`` (attributes the export made up), so ORCA → OTLP → ORCA
gives back the same span.
"""

from typing import Any, Final

PROVIDER: Final = "provider.request"
TOOL: Final = "tool-call"
TURN: Final = "turn"
STEP: Final = "step"

ORCA_NAME: Final = "orca.span.name"
ADDED: Final = "orca.otel.added"

_BY_OPERATION: Final = {
    "chat": PROVIDER,
    "text_completion": PROVIDER,
    "generate_content": PROVIDER,
    "execute_tool": TOOL,
    "invoke_agent": TURN,
    "invoke_workflow": TURN,
    "create_agent": TURN,
}
_BY_OPENINFERENCE: Final = {"LLM": PROVIDER, "TOOL": TOOL, "AGENT": TURN}

# Other spellings → the GenAI name ORCA reads (the original is kept as well).
ALIASES: Final = {
    "gen_ai.usage.cache_creation.input_tokens": "gen_ai.usage.cache_write.input_tokens",
    "gen_ai.usage.prompt_tokens": "gen_ai.usage.input_tokens",
    "gen_ai.usage.completion_tokens": "gen_ai.usage.output_tokens",
    "gen_ai.usage.reasoning_tokens": "orca.usage.reasoning_tokens",
    "gen_ai.usage.reasoning.output_tokens": "orca.usage.reasoning_tokens",
    "llm.model_name": "gen_ai.request.model",
    "llm.provider": "gen_ai.provider.name",
    "llm.token_count.prompt": "gen_ai.usage.input_tokens",
    "llm.token_count.completion": "gen_ai.usage.output_tokens",
    "llm.token_count.prompt_details.cache_read": "gen_ai.usage.cache_read.input_tokens",
    "llm.token_count.prompt_details.cache_write": "gen_ai.usage.cache_write.input_tokens",
    "llm.token_count.completion_details.reasoning": "orca.usage.reasoning_tokens",
    "session.id": "gen_ai.conversation.id",
    "tool.name": "gen_ai.tool.name",
    "agent.name": "gen_ai.agent.name",
}

# Attributes that are bodies, not attributes: (request side, response side).
REQUEST_BODY: Final = ("gen_ai.input.messages", "input.value")
RESPONSE_BODY: Final = ("gen_ai.output.messages", "output.value")


def orca_name(name: str, attrs: dict[str, Any], has_parent: bool) -> str:
    """The ORCA span name for an OTLP span (unknown names are kept as they are)."""
    op = attrs.get("gen_ai.operation.name")
    if isinstance(op, str) and op in _BY_OPERATION:
        return _BY_OPERATION[op]
    kind = attrs.get("openinference.span.kind")
    if isinstance(kind, str):
        kind = kind.upper()
        if kind in _BY_OPENINFERENCE:
            return _BY_OPENINFERENCE[kind]
        if kind == "CHAIN":
            return STEP if has_parent else TURN
    head = name.split(" ", 1)[0]
    if head in ("chat", "text_completion", "generate_content") and " " in name:
        return PROVIDER
    if head == "execute_tool" and " " in name:
        return TOOL
    if head in ("invoke_agent", "invoke_workflow") and " " in name:
        return TURN
    return name


def normalise(attrs: dict[str, Any]) -> dict[str, Any]:
    """Add the GenAI spelling beside each known alias (never overwriting one already there)."""
    for src, dst in ALIASES.items():
        if src in attrs and dst not in attrs:
            attrs[dst] = attrs[src]
    return attrs


def otel_name(name: str, attrs: dict[str, Any], component: str) -> tuple[str, dict[str, Any]]:
    """The OTel GenAI span name for an ORCA span, and the attributes the mapping adds."""
    added: dict[str, Any] = {}
    if name == PROVIDER:
        op, detail = "chat", attrs.get("gen_ai.request.model") or attrs.get("gen_ai.response.model")
    elif name == TOOL:
        op, detail = "execute_tool", attrs.get("gen_ai.tool.name")
    elif name == TURN:
        op, detail = "invoke_agent", attrs.get("gen_ai.agent.name") or component
    else:
        return name, added
    if "gen_ai.operation.name" not in attrs:
        added["gen_ai.operation.name"] = op
    return (f"{op} {detail}" if detail else op), added
