"""Public test doubles: temporary homes, captured records, a fake OpenAI-compatible provider.

Our own tests use these, and so can yours: they are real parts (a real
journal in a real directory), not mocks. ``postgres_cluster()`` starts a
throwaway PostgreSQL server (the PostgreSQL store's tests and benches);
``python_child()`` a real process held at a known point, to SIGKILL or out-wait.
"""

from orca.testing._big import record_big_trace
from orca.testing._child import python_child
from orca.testing._postgres import PostgresCluster, postgres_bin, postgres_cluster
from orca.testing._records import capture_records, journal_records, temp_home
from orca.testing.fake_provider import FakeProvider, ReceivedRequest, Reply

__all__ = [
    "FakeProvider",
    "PostgresCluster",
    "ReceivedRequest",
    "Reply",
    "capture_records",
    "journal_records",
    "postgres_bin",
    "postgres_cluster",
    "python_child",
    "record_big_trace",
    "temp_home",
]
