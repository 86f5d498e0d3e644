"""Envelopes (what agents hand each other), their usage hints, and the acknowledgement of one.

An envelope's ``id`` is chosen by the client and is its idempotency key: the
same id with the same content is the same envelope (its original ``Ack`` comes
back, flagged ``duplicate``); with other content it is a conflict. "Content"
is every field but ``created_ms`` (a resend may stamp a new time), hashed over
sorted-key JSON.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from orca.orchestrator._errors import InvalidEnvelope, InvalidRequest
from orca.orchestrator._retry import RetryPolicy, is_finite_number

KINDS: Final = ("agent_task", "agent_result", "agent_error")
RESULT_KINDS: Final = frozenset({"agent_result", "agent_error"})
SUPPORTED_PROTOCOLS: Final = frozenset({1})  # envelope protocol_version values this ORCA reads
DEFAULT_TTL_MS: Final = 3_600_000  # an envelope that names no ttl_ms expires after 1 h (ms)
MAX_ID_CHARS: Final = 200
MAX_NAME_CHARS: Final = 200  # agent and run names (the ledger keeps actors ≤ 512)
_FIELDS: Final = frozenset(
    {
        "id",
        "run",
        "kind",
        "sender",
        "recipient",
        "payload",
        "ttl_ms",
        "protocol_version",
        "usage",
        "parent",
        "created_ms",
        "retry",
    }
)


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens and cost: a hint on an envelope, the actual amount on a completion."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
        }

    @classmethod
    def coerce(cls, value: "Usage | Mapping[str, Any] | None") -> "Usage | None":
        """A ``Usage`` from itself, a mapping of its fields, or None; InvalidRequest otherwise."""
        if value is None or isinstance(value, Usage):
            return value
        if not isinstance(value, Mapping):
            raise InvalidRequest(
                f"usage is a mapping of input_tokens/output_tokens/cost_usd, not {value!r}"
            )
        unknown = set(value) - {"input_tokens", "output_tokens", "cost_usd"}
        if unknown:
            raise InvalidRequest(f"unknown usage fields {sorted(unknown)}")
        tin, tout = value.get("input_tokens", 0), value.get("output_tokens", 0)
        cost = value.get("cost_usd", 0.0)
        if not (_is_int(tin) and _is_int(tout) and tin >= 0 and tout >= 0):
            raise InvalidRequest("usage input_tokens/output_tokens must be non-negative integers")
        if not is_finite_number(cost) or cost < 0:
            raise InvalidRequest("usage cost_usd must be a non-negative number")
        return cls(tin, tout, float(cost))


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True, slots=True)
class Envelope:
    """One hand-off between agents.

    ``recipient`` names the agent that gets it as a task; a result or error
    (``agent_result``/``agent_error``) with no recipient is addressed to the
    run's caller and becomes the run's result (:meth:`Orchestrator.fetch_result`)
    without being queued. ``parent`` is the span that caused it (16 hex).
    ``retry`` overrides the agent's retry policy for this envelope only.
    """

    id: str
    run: str
    kind: str
    sender: str
    recipient: str | None
    payload: Any = None
    ttl_ms: int = DEFAULT_TTL_MS
    protocol_version: int = 1
    usage: Usage | None = None
    parent: str | None = None
    created_ms: int | None = None
    retry: RetryPolicy | None = None

    def content(self) -> dict[str, Any]:
        """Every field that makes this envelope what it is (all but ``created_ms``)."""
        return {
            "id": self.id,
            "run": self.run,
            "kind": self.kind,
            "sender": self.sender,
            "recipient": self.recipient,
            "payload": self.payload,
            "ttl_ms": self.ttl_ms,
            "protocol_version": self.protocol_version,
            "usage": self.usage.to_dict() if self.usage else None,
            "parent": self.parent,
            "retry": self.retry.to_dict() if self.retry else None,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.content(), "created_ms": self.created_ms}

    def content_hash(self) -> str:
        """SHA-256 of the content as sorted-key JSON: equal content, equal hash."""
        data = orjson.dumps(self.content(), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(data).hexdigest()

    @property
    def queued(self) -> bool:
        """Whether accepting it makes a task (everything but a result for the caller)."""
        return self.recipient is not None


def coerce_envelope(value: "Envelope | Mapping[str, Any]") -> Envelope:
    """An :class:`Envelope` from itself or a mapping; :class:`InvalidEnvelope` naming the field."""
    if isinstance(value, Envelope):
        env = value
    elif isinstance(value, Mapping):
        unknown = set(value) - _FIELDS
        if unknown:
            raise InvalidEnvelope(
                f"unknown envelope fields {sorted(unknown)}; known: {sorted(_FIELDS)}"
            )
        missing = [f for f in ("id", "run", "kind", "sender") if f not in value]
        if missing:
            raise InvalidEnvelope(f"an envelope needs {', '.join(missing)}")
        try:
            usage = Usage.coerce(value.get("usage"))
            retry = value.get("retry")
            policy = RetryPolicy.from_mapping(retry) if isinstance(retry, Mapping) else retry
        except (TypeError, ValueError) as exc:
            raise InvalidEnvelope(f"envelope {value.get('id')!r}: {exc}") from None
        env = Envelope(
            id=value["id"],
            run=value["run"],
            kind=value["kind"],
            sender=value["sender"],
            recipient=value.get("recipient"),
            payload=value.get("payload"),
            ttl_ms=value.get("ttl_ms", DEFAULT_TTL_MS),
            protocol_version=value.get("protocol_version", 1),
            usage=usage,
            parent=value.get("parent"),
            created_ms=value.get("created_ms"),
            retry=policy,
        )
    else:
        raise InvalidEnvelope(
            f"an envelope is an Envelope or a mapping, not {type(value).__name__}"
        )
    _check(env)
    return env


def _check(env: Envelope) -> None:
    def bad(msg: str) -> InvalidEnvelope:
        return InvalidEnvelope(f"envelope {env.id!r}: {msg}")

    if (
        not isinstance(env.id, str)
        or not 0 < len(env.id) <= MAX_ID_CHARS
        or not env.id.isprintable()
    ):
        raise InvalidEnvelope(f"envelope id must be 1-{MAX_ID_CHARS} printable characters")
    for name in ("run", "sender"):
        v = getattr(env, name)
        if not isinstance(v, str) or not 0 < len(v) <= MAX_NAME_CHARS:
            raise bad(f"{name} must be a string of 1-{MAX_NAME_CHARS} characters")
    if env.kind not in KINDS:
        raise bad(f"kind must be one of {', '.join(KINDS)}, not {env.kind!r}")
    if env.recipient is not None and (
        not isinstance(env.recipient, str) or not 0 < len(env.recipient) <= MAX_NAME_CHARS
    ):
        raise bad("recipient must be an agent name (or absent for a result to the caller)")
    if env.recipient is None and env.kind == "agent_task":
        raise bad("an agent_task needs a recipient agent")
    if not _is_int(env.ttl_ms):
        raise bad("ttl_ms must be an integer number of milliseconds")
    if not _is_int(env.protocol_version):
        raise bad("protocol_version must be an integer")
    if env.created_ms is not None and not _is_int(env.created_ms):
        raise bad("created_ms must be Unix milliseconds")
    if env.parent is not None and (
        not isinstance(env.parent, str)
        or len(env.parent) != 16
        or any(c not in "0123456789abcdef" for c in env.parent)
    ):
        raise bad("parent must be a span id (16 lower-case hex)")
    if env.usage is not None and not isinstance(env.usage, Usage):
        raise bad("usage must be an orca.orchestrator.Usage or a mapping")
    if env.retry is not None and not isinstance(env.retry, RetryPolicy):
        raise bad("retry must be an orca.orchestrator.RetryPolicy or a mapping")
    try:
        orjson.dumps(env.payload)
    except TypeError as exc:
        raise bad(f"payload is not JSON: {exc}") from None


def envelope_from_record(data: Mapping[str, Any]) -> Envelope:
    """The envelope as recorded in an ``envelope.accepted`` entry (trusted: no re-validation)."""
    retry = data.get("retry")
    return Envelope(
        id=data["id"],
        run=data["run"],
        kind=data["kind"],
        sender=data["sender"],
        recipient=data.get("recipient"),
        payload=data.get("payload"),
        ttl_ms=data["ttl_ms"],
        protocol_version=data["protocol_version"],
        usage=Usage.coerce(data.get("usage")),
        parent=data.get("parent"),
        created_ms=data.get("created_ms"),
        retry=RetryPolicy.from_mapping(retry) if retry else None,
    )


@dataclass(frozen=True, slots=True)
class Ack:
    """An envelope accepted and durable; a resend of it gets this back with ``duplicate=True``."""

    envelope_id: str
    run: str
    entry_id: int
    accepted_ms: int
    expires_ms: int
    queued: bool
    duplicate: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "envelope_id": self.envelope_id,
            "run": self.run,
            "entry_id": self.entry_id,
            "accepted_ms": self.accepted_ms,
            "expires_ms": self.expires_ms,
            "queued": self.queued,
            "duplicate": self.duplicate,
        }
