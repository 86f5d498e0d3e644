"""Writes ``attrs_v5.sqlite``: a store written by schema 5's code.

Schema 5 stored every ``spans.attrs`` as JSON text; schema 6 packs new ones
(``_attrs``). Run once with the ORCA of schema version 5 on the path (``git
archive`` of a commit before schema 6, then ``PYTHONPATH=<it>/src python
make_attrs_v5_store.py``); ``test_attrs.py`` opens a copy with today's code
(migrating it) and expects the same traces, bodies and search hits as
``store_v4.json`` records: the records are ``make_v4_store``'s, and schema 5
read them back exactly so (checked here).
"""

import sys
from pathlib import Path

import orjson
from make_v4_store import expected, records

from orca.store import SQLiteStore, items_from


def main(where: Path) -> None:
    with SQLiteStore.open(where / "attrs_v5.sqlite") as store:
        assert store._conn.execute("PRAGMA user_version").fetchone()[0] == 5
        store.apply(items_from(records(), "seg"))
        store.catch_up_search()
        store.pin(records()[0]["trace"])
        assert orjson.loads(orjson.dumps(expected(store))) == orjson.loads(
            (where / "store_v4.json").read_bytes()
        )
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
