"""Cost arithmetic: cached and reasoning tokens at their own rate; genai-prices, then overrides."""

import json
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import genai_prices
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orca.integrations import (
    Price,
    PriceTable,
    PriceTableError,
    Usage,
    cost_usd,
    normalize_usage,
)

TABLE = PriceTable(
    {"gpt-4o": Price(input=2.50, output=10.00, cache_read=1.25, cache_write=0.0)},
    maintained=False,
)
NOON = 1_780_000_000 * 10**9  # a fixed clock: 2026-05-28 (UTC)
DAY = datetime.fromtimestamp(NOON / 1e9, UTC)


def _theirs(model: str, provider: str | None = None, **counts: int) -> float:
    """genai-prices' own figure for the same usage on the same day."""
    calc = genai_prices.calc_price(
        genai_prices.Usage(**counts), model, provider_id=provider, genai_request_timestamp=DAY
    )
    return float(calc.total_price)


def test_openai_uncached_request() -> None:
    """1000 prompt tokens, none cached, 200 out: 1000×2.50 + 200×10.00 per million."""
    usage = normalize_usage({"prompt_tokens": 1000, "completion_tokens": 200})
    assert usage == Usage(uncached=1000, cache_read=0, cache_write=0, output=200)
    cost = cost_usd(usage, "gpt-4o", TABLE)
    assert cost.source == "price table"
    assert cost.usd == pytest.approx(0.0025 + 0.002)


def test_openai_cached_request_counts_cached_tokens_once_at_cache_rate() -> None:
    """cached_tokens are inside prompt_tokens: 2000 prompt of which 1536 cached."""
    usage = normalize_usage(
        {
            "prompt_tokens": 2000,
            "completion_tokens": 10,
            "prompt_tokens_details": {"cached_tokens": 1536},
        }
    )
    assert (usage.uncached, usage.cache_read, usage.input) == (464, 1536, 2000)
    cost = cost_usd(usage, "gpt-4o", TABLE)
    # 464×2.50 + 1536×1.25 + 10×10.00 = 1160 + 1920 + 100 = 3180 per million
    assert cost.usd == pytest.approx(0.00318)
    naive = (2000 * 2.50 + 10 * 10.00) / 1e6  # what charging cached at full price gives
    assert cost.usd is not None and cost.usd < naive


def test_anthropic_shape_adds_cache_tokens_on_top() -> None:
    """input_tokens excludes cache reads and writes; each is priced at its own rate."""
    table = PriceTable({"claude-sonnet-4": Price(3.00, 15.00, 0.30, 3.75)}, maintained=False)
    usage = normalize_usage(
        {
            "input_tokens": 50,
            "cache_read_input_tokens": 10_000,
            "cache_creation_input_tokens": 2_000,
            "output_tokens": 100,
        }
    )
    assert (usage.uncached, usage.cache_read, usage.cache_write, usage.input) == (
        50,
        10_000,
        2_000,
        12_050,
    )
    cost = cost_usd(usage, "claude-sonnet-4-20250514", table)
    # 50×3 + 10000×0.30 + 2000×3.75 + 100×15 = 150 + 3000 + 7500 + 1500 = 12150 per million
    assert cost.usd == pytest.approx(0.01215)


def test_deepseek_cache_hit_field() -> None:
    """DeepSeek reports cache hits as prompt_cache_hit_tokens, inside prompt_tokens."""
    usage = normalize_usage(
        {"prompt_tokens": 100, "prompt_cache_hit_tokens": 60, "completion_tokens": 1}
    )
    assert (usage.uncached, usage.cache_read) == (40, 60)


def test_inconsistent_counts_never_go_negative() -> None:
    """More cached than prompt tokens (a buggy provider): clamped, never negative."""
    usage = normalize_usage(
        {
            "prompt_tokens": 10,
            "prompt_tokens_details": {"cached_tokens": 50},
            "completion_tokens": 0,
        }
    )
    assert (usage.uncached, usage.cache_read, usage.input) == (0, 10, 10)


def test_provider_reported_cost_wins() -> None:
    """usage.cost from the provider beats every price list."""
    usage = normalize_usage({"prompt_tokens": 1000, "completion_tokens": 1, "cost": 0.42})
    cost = cost_usd(usage, "gpt-4o", TABLE)
    assert (cost.usd, cost.source) == (0.42, "provider")


def test_longest_prefix_wins() -> None:
    """An own price list matches a dated model name by its longest listed prefix."""
    table = PriceTable({"gpt-4o": Price(1, 1, 1, 1), "gpt-4o-mini": Price(2, 2, 2, 2)})
    assert table.lookup("gpt-4o-mini-2024-07-18") == table.prices["gpt-4o-mini"]
    assert table.lookup("gpt-4o-2024-08-06") == table.prices["gpt-4o"]


def test_home_price_file_overrides_defaults(home: Path) -> None:
    """A prices.toml: cache_write defaults to input, reasoning to the output rate."""
    (home / "prices.toml").write_text(
        '[models."gpt-4o"]\ninput = 5.0\noutput = 20.0\ncache_read = 2.5\n'
        '[models."my-local"]\ninput = 0.0\noutput = 0.0\ncache_read = 0.0\n'
    )
    table = PriceTable.load(home)
    assert table.lookup("gpt-4o") == Price(5.0, 20.0, 2.5, 5.0)  # cache_write defaults to input
    assert table.lookup("my-local") == Price(0.0, 0.0, 0.0, 0.0)
    assert table.lookup("gpt-4.1") is None and table.maintained  # genai-prices prices the rest


def test_json_price_file(home: Path) -> None:
    """prices.json has the same shape as prices.toml."""
    doc = {"models": {"m": {"input": 1, "output": 2, "cache_read": 0.1, "cache_write": 1.25}}}
    (home / "prices.json").write_text(json.dumps(doc))
    assert PriceTable.load(home).lookup("m") == Price(1.0, 2.0, 0.1, 1.25)


@pytest.mark.parametrize(
    "text",
    [
        "not = [toml",
        "[other]\nx = 1\n",
        '[models."m"]\ninput = 1\noutput = 2\n',  # cache_read missing: no silent full price
        '[models."m"]\ninput = -1\noutput = 2\ncache_read = 0\n',
        '[models."m"]\ninput = 1\noutput = 2\ncache_read = 0\ntypo = 3\n',
        '[models."m"]\ninput = 1\noutput = 2\ncache_read = 0\nreasoning = "x"\n',
    ],
)
def test_bad_price_file_is_a_clear_error(home: Path, text: str) -> None:
    """Each malformed file is a PriceTableError naming the file."""
    (home / "prices.toml").write_text(text)
    with pytest.raises(PriceTableError, match=r"prices\.toml"):
        PriceTable.load(home)


def test_known_model_costs_what_genai_prices_says() -> None:
    """gpt-4o with cached input: our figure is genai-prices' own, and the source names it."""
    table = PriceTable(clock=lambda: NOON)
    usage = normalize_usage(
        {
            "prompt_tokens": 2000,
            "completion_tokens": 10,
            "prompt_tokens_details": {"cached_tokens": 1536},
        }
    )
    cost = table.cost(usage, "gpt-4o", "openai")
    expected = _theirs(
        "gpt-4o", "openai", input_tokens=2000, cache_read_tokens=1536, output_tokens=10
    )
    assert cost.usd == pytest.approx(expected)
    assert cost.usd < _theirs("gpt-4o", "openai", input_tokens=2000, output_tokens=10)
    assert cost.source == f"genai-prices {genai_prices.__version__} {DAY.date().isoformat()}"


def test_cache_writes_priced_by_genai_prices() -> None:
    """Anthropic-shaped usage with cache reads and writes: each at genai-prices' own rate."""
    usage = normalize_usage(
        {
            "input_tokens": 50,
            "cache_read_input_tokens": 10_000,
            "cache_creation_input_tokens": 2_000,
            "output_tokens": 100,
        }
    )
    cost = PriceTable(clock=lambda: NOON).cost(usage, "claude-sonnet-4-20250514", "anthropic")
    expected = _theirs(
        "claude-sonnet-4-20250514",
        "anthropic",
        input_tokens=12_050,
        cache_read_tokens=10_000,
        cache_write_tokens=2_000,
        output_tokens=100,
    )
    plain = _theirs("claude-sonnet-4-20250514", "anthropic", input_tokens=12_050, output_tokens=100)
    assert cost.usd == pytest.approx(expected) and expected != pytest.approx(plain)


def test_reasoning_tokens_priced_at_their_own_rate() -> None:
    """A model with a reasoning rate: the reasoning part of output is charged at it."""
    model = "sonar-deep-research"
    usage = normalize_usage(
        {
            "prompt_tokens": 1000,
            "completion_tokens": 400,
            "completion_tokens_details": {"reasoning_tokens": 300},
        }
    )
    cost = PriceTable(clock=lambda: NOON).cost(usage, model, "perplexity")
    counts = {"input_tokens": 1000, "output_tokens": 400}
    expected = _theirs(model, "perplexity", **counts, output_reasoning_tokens=300)
    assert cost.usd == pytest.approx(expected)
    assert expected != pytest.approx(_theirs(model, "perplexity", **counts))


def test_reasoning_rate_in_an_own_price() -> None:
    """An own price with a reasoning rate; without one, reasoning is output (counted once)."""
    usage = Usage(uncached=0, cache_read=0, cache_write=0, output=1000, reasoning=600)
    with_rate = PriceTable({"r": Price(1.0, 10.0, 0.1, 1.0, reasoning=2.0)}, maintained=False)
    assert with_rate.cost(usage, "r").usd == pytest.approx((400 * 10.0 + 600 * 2.0) / 1e6)
    plain = PriceTable({"r": Price(1.0, 10.0, 0.1, 1.0)}, maintained=False)
    assert plain.cost(usage, "r").usd == pytest.approx(1000 * 10.0 / 1e6)


def test_override_wins_over_genai_prices(home: Path) -> None:
    """<home>/prices.toml prices gpt-4o; genai-prices still prices what it does not list."""
    (home / "prices.toml").write_text(
        '[models."gpt-4o"]\ninput = 1000.0\noutput = 1000.0\ncache_read = 1000.0\n'
    )
    table = PriceTable.load(home)
    usage = normalize_usage({"prompt_tokens": 1000, "completion_tokens": 1000})
    mine = table.cost(usage, "gpt-4o-2024-08-06", "openai")
    assert (mine.usd, mine.source) == (pytest.approx(2.0), "prices.toml")
    other = table.cost(usage, "o3-mini", "openai")  # no listed prefix matches it
    assert other.source.startswith("genai-prices ") and other.usd == pytest.approx(
        _theirs("o3-mini", "openai", input_tokens=1000, output_tokens=1000)
    )


def test_unknown_model_is_unpriced_counted_and_warned_once() -> None:
    """No price anywhere: no cost, a count per call, exactly one warning, never a raise."""
    table = PriceTable()
    usage = normalize_usage({"prompt_tokens": 1, "completion_tokens": 1})
    with pytest.warns(RuntimeWarning, match="mystery-model") as caught:
        first = cost_usd(usage, "mystery-model", table)
        second = table.cost(usage, "mystery-model", "openai")
    assert (first.usd, first.source) == (None, "unpriced") and second == first
    assert len(caught) == 1
    assert table.unpriced["mystery-model"] == 2


def test_unknown_model_under_warnings_as_errors_never_raises() -> None:
    """With -W error the warning goes to stderr instead: pricing still returns."""
    table = PriceTable()
    cost = table.cost(normalize_usage({"prompt_tokens": 1}), "nobody-prices-this")
    assert cost.usd is None and table.unpriced["nobody-prices-this"] == 1


def test_provider_hint_is_only_a_hint() -> None:
    """A Claude model through an OpenAI-compatible client is still priced (as Anthropic's)."""
    usage = normalize_usage({"prompt_tokens": 100, "completion_tokens": 10})
    cost = PriceTable(clock=lambda: NOON).cost(usage, "claude-sonnet-4", "openai")
    assert cost.usd == pytest.approx(_theirs("claude-sonnet-4", input_tokens=100, output_tokens=10))


def test_genai_prices_is_imported_only_when_a_price_is_needed() -> None:
    """Instrumenting and recording a span import no genai_prices; the first priced call does."""
    code = (
        "import sys\n"
        "from orca.integrations import PriceTable, normalize_usage\n"
        "import orca.integrations.openai\n"
        "t = PriceTable()\n"
        "print('genai_prices' in sys.modules)\n"
        "t.cost(normalize_usage({'prompt_tokens': 1}), 'gpt-4o')\n"
        "print('genai_prices' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_decimal_figures_become_floats() -> None:
    """genai-prices works in Decimal; the recorded attribute is a plain float."""
    cost = PriceTable().cost(normalize_usage({"prompt_tokens": 10}), "gpt-4o")
    assert isinstance(cost.usd, float) and not isinstance(cost.usd, Decimal)


@settings(max_examples=60, deadline=None)
@given(
    model=st.sampled_from(
        [("gpt-4o", "openai"), ("claude-sonnet-4-20250514", "anthropic"), ("o3-mini", None)]
    ),
    uncached=st.integers(0, 150_000),
    read=st.integers(0, 150_000),
    write=st.integers(0, 50_000),
    output=st.integers(0, 50_000),
    reasoning=st.integers(0, 50_000),
)
def test_cached_linear_rates_equal_genai_prices_own_figure(
    model: tuple[str, str | None], uncached: int, read: int, write: int, output: int, reasoning: int
) -> None:
    """Any usage: the cached per-token rates give exactly what calc_price computes."""
    name, provider = model
    reasoning = min(reasoning, output)
    usage = Usage(uncached, read, write, output, reasoning)
    cost = PriceTable(clock=lambda: NOON).cost(usage, name, provider)
    counts = {"input_tokens": uncached + read + write, "output_tokens": output}
    extra = {"cache_read_tokens": read, "cache_write_tokens": write}
    extra["output_reasoning_tokens"] = reasoning
    expected = _theirs(name, provider, **counts, **{k: v for k, v in extra.items() if v})
    assert cost.usd == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_tiered_price_is_computed_by_genai_prices_each_time() -> None:
    """A price with tiers by prompt size is not linear: both sides of the tier match calc_price."""
    table = PriceTable(clock=lambda: NOON)
    for prompt in (1_000, 300_000):
        usage = normalize_usage({"prompt_tokens": prompt, "completion_tokens": 100})
        cost = table.cost(usage, "gemini-2.5-pro", "google")
        expected = _theirs("gemini-2.5-pro", "google", input_tokens=prompt, output_tokens=100)
        assert cost.usd == pytest.approx(expected)
