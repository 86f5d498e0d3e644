"""Budgets: atomic reserve/settle (no race past the limit), 80/90% warnings once, isolation."""

import random
import sys
import threading
from collections.abc import Iterator

import pytest

from orca.governance import Budget, BudgetBook, BudgetError, BudgetExceeded, Spend

SEED = 1312


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Make the interpreter switch threads as often as it can, so races have room to happen."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


@pytest.mark.parametrize("repeat", range(50))
def test_64_threads_never_overspend_a_nearly_spent_budget(
    repeat: int, busy_switching: None
) -> None:
    """64 concurrent reservations against 100 tokens left admit at most 100, and all that fit."""
    rnd = random.Random(SEED + repeat)
    print(f"seed {SEED + repeat}")
    book = BudgetBook()
    book.set_budget("r", {"total_tokens": 1000})
    book.record("r", None, Spend(600, 300))  # 900 of 1000 spent
    sizes = [rnd.randint(1, 12) for _ in range(64)]
    start = threading.Barrier(64)
    admitted: list[int] = []
    rejected: list[int] = []
    lock = threading.Lock()

    def submit(tokens: int) -> None:
        start.wait()
        try:
            book.reserve("r", None, Spend(tokens, 0))
        except BudgetExceeded:
            with lock:
                rejected.append(tokens)
        else:
            with lock:
                admitted.append(tokens)

    threads = [threading.Thread(target=submit, args=(n,)) for n in sizes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(admitted) <= 100
    room = 100 - sum(admitted)
    assert all(n > room for n in rejected)  # nothing was turned away that would have fitted
    assert len(admitted) + len(rejected) == 64


def test_warnings_at_exactly_80_and_90_percent_once_each() -> None:
    """799 → nothing; 800 → warning 80; 900 → warning 90; never repeated."""
    book = BudgetBook()
    book.set_budget("r", {"total_tokens": 1000, "cost_usd": 0.1})
    assert book.record("r", None, Spend(799, 0)) == []
    [w80] = book.record("r", None, Spend(1, 0))
    assert (w80.kind, w80.dimension, w80.threshold, w80.used, w80.limit) == (
        "warning", "total_tokens", 80, 800.0, 1000.0,
    )  # fmt: skip
    assert book.record("r", None, Spend(99, 0)) == []
    [w90] = book.record("r", None, Spend(0, 1))
    assert w90.threshold == 90
    assert book.record("r", None, Spend(0, 1)) == []
    events = book.record("r", None, Spend(0, 0, 0.08))  # exactly 80% of $0.10
    assert [(e.dimension, e.threshold) for e in events] == [("cost_usd", 80)]


def test_rejection_at_the_limit() -> None:
    """An estimate that exactly fills the budget is admitted; anything after it is not."""
    book = BudgetBook()
    book.set_budget("r", {"output_tokens": 100})
    res = book.reserve("r", None, Spend(0, 100))
    with pytest.raises(BudgetExceeded) as info:
        book.reserve("r", None, Spend(0, 1))
    exc = info.value
    assert (exc.code, exc.http_status, exc.scope, exc.dimension) == (
        "budget-exceeded", 429, "run", "output_tokens",
    )  # fmt: skip
    assert "raise the budget" in str(exc)
    book.settle(res, Spend(0, 100))
    with pytest.raises(BudgetExceeded):
        book.reserve("r", None, Spend(0, 0))  # at the limit nothing more is admitted


def test_settle_releases_the_difference_and_is_idempotent() -> None:
    """A 100-token estimate that used 30 frees 70; settling again or releasing does nothing."""
    book = BudgetBook()
    book.set_budget("r", {"total_tokens": 100})
    res = book.reserve("r", None, Spend(100, 0))
    with pytest.raises(BudgetExceeded):
        book.reserve("r", None, Spend(1, 0))
    book.settle(res, Spend(20, 10))
    book.settle(res, Spend(100, 100))
    book.release(res)
    second = book.reserve("r", None, Spend(70, 0))
    book.release(second)
    assert [(u.scope, u.dimension, u.used, u.reserved) for u in book.usage("r")] == [
        ("run", "input_tokens", 20.0, 0.0),
        ("run", "output_tokens", 10.0, 0.0),
        ("run", "total_tokens", 30.0, 0.0),
    ]


def test_an_overrun_is_reported_once() -> None:
    """Actual usage above the estimate is charged (it happened) and reported as exceeded once."""
    book = BudgetBook()
    book.set_budget("r", {"total_tokens": 100})
    res = book.reserve("r", None, Spend(50, 0))
    events = book.settle(res, Spend(150, 0))
    assert [(e.kind, e.threshold) for e in events] == [
        ("warning", 80), ("warning", 90), ("exceeded", 100),
    ]  # fmt: skip
    assert book.record("r", None, Spend(1, 0)) == []


def test_isolation_between_runs_and_between_agents() -> None:
    """One run's or agent's spending never uses another's budget."""
    book = BudgetBook()
    budget = {"total_tokens": 1000, "per_agent": {"billing": {"total_tokens": 100}}}
    book.set_budget("r1", budget)
    book.set_budget("r2", budget)
    book.reserve("r1", "billing", Spend(100, 0))
    with pytest.raises(BudgetExceeded) as info:
        book.reserve("r1", "billing", Spend(1, 0))
    assert info.value.scope == "agent:billing"
    book.reserve("r1", "search", Spend(800, 0))  # another agent, same run: run limit only
    book.reserve("r2", "billing", Spend(100, 0))  # another run: its own budget
    with pytest.raises(BudgetExceeded) as info:
        book.reserve("r1", "search", Spend(101, 0))
    assert info.value.scope == "run"


def test_rebuild_from_entries_keeps_usage_and_warnings() -> None:
    """Folding budget.settled / budget.warning entries gives the same usage, no repeated warning."""
    book = BudgetBook()
    book.set_budget("r", {"total_tokens": 100})
    book.apply("budget.settled", {"run": "r", "agent": "a", "input_tokens": 85})
    book.apply("budget.warning", {"run": "r", "agent": None, "dimension": "total_tokens",
                                  "threshold": 80})  # fmt: skip
    book.apply("something.else", {"run": "r"})
    book.apply("budget.settled", {"agent": "a"})  # no run: ignored
    assert book.record("r", None, Spend(1, 0)) == []  # 86%: the 80% warning was already given
    assert [e.threshold for e in book.record("r", None, Spend(4, 0))] == [90]


def test_budget_shape_is_validated() -> None:
    """Unknown keys, negative limits and non-mappings are BudgetError; every key is optional."""
    assert Budget.parse({}) == Budget()
    assert Budget.parse({"per_agent": {"billing": {"cost_usd": 1}}}) is not None
    for bad in ({"tokens": 5}, {"total_tokens": -1}, {"per_agent": {"x": {"cost": 1}}}, [1]):
        with pytest.raises(BudgetError):
            Budget.parse(bad)  # type: ignore[arg-type]
