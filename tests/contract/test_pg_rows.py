"""PostgreSQL rows become the same named rows as SQLite's, field by field."""

import dataclasses
import inspect

from orca.store._pg_read import SPAN_COLS, span_from
from orca.store._rows import SpanRow


def test_span_from_fills_each_field_from_the_column_of_its_name() -> None:
    """span_from builds SpanRow positionally: every field must get its own column's value."""
    params = list(inspect.signature(span_from).parameters)
    values = {name: f"<{name}>" for name in params}
    values["attrs_open"], values["attrs_close"] = '{"a": 1, "b": 2}', '{"b": 3}'
    row = span_from(**values)  # type: ignore[arg-type]
    for field in dataclasses.fields(SpanRow):
        got = getattr(row, field.name)
        assert got == ({"a": 1, "b": 3} if field.name == "attrs" else f"<{field.name}>")
    columns = [c.strip().split(".")[-1] for c in SPAN_COLS.split(",")]
    assert columns == params  # the query's columns are the function's parameters, in order
