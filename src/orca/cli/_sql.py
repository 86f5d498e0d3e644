"""``orca sql``: one read-only SQL query on the home's SQLite store."""

from pathlib import Path

import click

from orca._table import Column, text_table
from orca.cli._common import existing_home, home_option, json_option, print_json
from orca.cli._options import count
from orca.cli._qcommon import emit
from orca.store import SqlResult, run_sql


@click.command("sql")
@home_option
@json_option
@click.argument("query")
@click.option("--limit", type=count(1), default=1000, show_default=True, help="Rows at most.")
def sql(home: Path | None, as_json: bool, query: str, limit: int) -> None:
    """Run one read-only SQL query on the store; orca_attrs(attrs) reads span attributes."""
    result = run_sql(existing_home(home), query, limit=limit)
    if as_json:
        print_json(sql_json(result))
    else:
        emit(render_sql(result))


def sql_json(result: SqlResult) -> dict[str, object]:
    """``{"columns", "rows": [{column: value}], "truncated"}`` (a repeated name gets ``:2``)."""
    names: list[str] = []
    for name in result.columns:
        taken = names.count(name) + sum(1 for n in names if n.startswith(f"{name}:"))
        names.append(f"{name}:{taken + 1}" if taken else name)
    rows = [dict(zip(names, row, strict=True)) for row in result.rows]
    return {"columns": result.columns, "rows": rows, "truncated": result.truncated}


def render_sql(result: SqlResult) -> str:
    """The rows as a plain table (numbers to the right, NULL spelled out)."""
    if not result.columns:
        return "(no rows)\n"
    columns = [Column(name, right=_numeric(result, i)) for i, name in enumerate(result.columns)]
    cells = [["NULL" if v is None else str(v) for v in row] for row in result.rows]
    out = text_table(columns, cells, empty="(no rows)")
    if result.truncated:
        out += f"(first {len(result.rows)} rows; raise --limit for more)\n"
    return out


def _numeric(result: SqlResult, i: int) -> bool:
    """Whether column ``i`` holds numbers (and at least one): aligned to the right."""
    values = [row[i] for row in result.rows if row[i] is not None]
    return bool(values) and all(isinstance(v, int | float) for v in values)
