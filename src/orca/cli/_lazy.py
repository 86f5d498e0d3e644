"""A click group whose commands are imported only when they run.

``orca --help`` and ``orca trace last`` once imported every command module,
and with them the server, the orchestrator, governance and ``rich``: most of
a second before the first byte. Here each command is registered by import
path with its one-line help, so ``--help`` lists every command without
importing any, and running one imports that one's module alone.
"""

from importlib import import_module
from typing import Any, NamedTuple

import click


class LazyCommand(NamedTuple):
    """Where a command lives (``module:attribute``) and the line ``orca --help`` shows for it."""

    target: str
    short_help: str

    def load(self) -> click.Command:
        module, _, attr = self.target.partition(":")
        command = getattr(import_module(module), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.target} is not a click command")
        return command


class LazyGroup(click.Group):
    """A group over a registry of :class:`LazyCommand`; eager ``add_command`` still works."""

    def __init__(
        self, name: str | None = None, *, lazy: dict[str, LazyCommand], **attrs: Any
    ) -> None:
        super().__init__(name, **attrs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.add_command(self.lazy[cmd_name].load(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the registry: no command module is imported for ``--help``."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.lazy and name not in self.commands:
                # click's own shortening, on the registered line (no import of the command)
                text = click.Command(name, help=self.lazy[name].short_help).get_short_help_str(
                    limit
                )
            else:
                command = self.commands[name]
                if command.hidden:
                    continue
                text = command.get_short_help_str(limit)
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
