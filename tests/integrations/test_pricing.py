"""Cost arithmetic: cached tokens priced at their own rate, never at full price, never twice."""

import json
from pathlib import Path

import pytest

from orca.integrations import (
    Price,
    PriceTable,
    PriceTableError,
    Usage,
    cost_usd,
    normalize_usage,
)

TABLE = PriceTable({"gpt-4o": Price(input=2.50, output=10.00, cache_read=1.25, cache_write=0.0)})


def test_openai_uncached_request() -> None:
    """1000 prompt tokens, none cached, 200 out: 1000×2.50 + 200×10.00 per million."""
    usage = normalize_usage({"prompt_tokens": 1000, "completion_tokens": 200})
    assert usage == Usage(uncached=1000, cache_read=0, cache_write=0, output=200)
    cost = cost_usd(usage, "gpt-4o", TABLE)
    assert cost.source == "table"
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
    table = PriceTable({"claude-sonnet-4": Price(3.00, 15.00, 0.30, 3.75)})
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
    """DeepSeek's prompt_cache_hit_tokens count as cache reads, the rest as uncached."""
    usage = normalize_usage(
        {"prompt_tokens": 100, "prompt_cache_hit_tokens": 60, "completion_tokens": 1}
    )
    assert (usage.uncached, usage.cache_read) == (40, 60)


def test_inconsistent_counts_never_go_negative() -> None:
    """More cached than prompt tokens is clamped: no negative uncached count."""
    usage = normalize_usage(
        {
            "prompt_tokens": 10,
            "prompt_tokens_details": {"cached_tokens": 50},
            "completion_tokens": 0,
        }
    )
    assert (usage.uncached, usage.cache_read, usage.input) == (0, 10, 10)


def test_provider_reported_cost_wins() -> None:
    """A cost the provider reports is used as is, over the price table."""
    usage = normalize_usage({"prompt_tokens": 1000, "completion_tokens": 1, "cost": 0.42})
    cost = cost_usd(usage, "gpt-4o", TABLE)
    assert (cost.usd, cost.source) == (0.42, "provider")


def test_unknown_model_is_unpriced() -> None:
    """A model the table does not know gets no cost and source 'unpriced', not a guess."""
    cost = cost_usd(normalize_usage({"prompt_tokens": 1}), "mystery-model", TABLE)
    assert (cost.usd, cost.source) == (None, "unpriced")


def test_longest_prefix_wins() -> None:
    """A dated model name takes its longest matching prefix's price (gpt-4o-mini)."""
    table = PriceTable()
    assert table.lookup("gpt-4o-mini-2024-07-18") == table.prices["gpt-4o-mini"]
    assert table.lookup("gpt-4o-2024-08-06") == table.prices["gpt-4o"]


def test_home_price_file_overrides_defaults(home: Path) -> None:
    """<home>/prices.toml overrides and adds models; the built-in prices stay."""
    (home / "prices.toml").write_text(
        '[models."gpt-4o"]\ninput = 5.0\noutput = 20.0\ncache_read = 2.5\n'
        '[models."my-local"]\ninput = 0.0\noutput = 0.0\ncache_read = 0.0\n'
    )
    table = PriceTable.load(home)
    assert table.lookup("gpt-4o") == Price(5.0, 20.0, 2.5, 5.0)  # cache_write defaults to input
    assert table.lookup("my-local") == Price(0.0, 0.0, 0.0, 0.0)
    assert table.lookup("gpt-4.1") is not None  # defaults are kept


def test_json_price_file(home: Path) -> None:
    """A prices.json in the home is read like prices.toml."""
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
    ],
)
def test_bad_price_file_is_a_clear_error(home: Path, text: str) -> None:
    """A malformed, incomplete or negative price file is an error naming the file."""
    (home / "prices.toml").write_text(text)
    with pytest.raises(PriceTableError, match=r"prices\.toml"):
        PriceTable.load(home)
