"""The ``tui-reader`` command: a thin layer over ``tui_reader.core`` (and ``ui``, ``serve``).

Each command lives in a module of its own and is imported only when it runs (or when ``--help``
lists them), so ``tui-reader annotate`` never loads the export formats or the servers. Options and
helpers the commands share are in ``options.py``. Nothing in the package imports ``cli``.
"""

from __future__ import annotations

import importlib

import click

from .. import __version__

# command name -> "module:function" (modules of this package)
COMMANDS = {
    "annotate": "annotate:annotate_command",
    "review": "annotate:review_command",
    "import": "data:import_command",
    "export": "data:export_command",
    "stats": "figures:stats_command",
    "agree": "figures:agree_command",
    "label-all": "label_all:label_all_command",
    "control": "control:control_group",
    "serve-ssh": "serve:serve_ssh_command",
    "serve-web": "serve:serve_web_command",
}


class LazyGroup(click.Group):
    """A group whose commands are imported when used (click's documented lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        module = importlib.import_module(f"{__name__}.{module_name}")
        command: click.Command = getattr(module, attr)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tui-reader")
def main() -> None:
    """Label spans of articles in the terminal and export them as training data."""


__all__ = ["COMMANDS", "main"]
