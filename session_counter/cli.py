"""The app's heavy CLI commands, registered without importing them: each loads on use.

A gunicorn worker imports ``session_counter`` and builds the app; it must not load the
race lab, the server harness or the bench for commands it never runs. Flask's own
``flask run`` and ``flask shell`` are registered the same way, by name.
"""

import importlib

import click

# name: (module:attribute of the click command, the first line of its help for `--help`)
LAZY_COMMANDS = {
    "race": ("session_counter.race.cli:race_command", "Fire N truly simultaneous clients at "
             "real servers and show what each strategy hands out."),
    "bench": ("session_counter.bench.cli:bench_command",
              "Measure what safety costs: req/s, p50/p99 and the ratio to a bare route."),
}


class LazyCommand(click.Command):
    """A command that imports its real command when it is run (or asked for --help)."""

    def __init__(self, name, target, help_line):
        """Stand for the click command at ``target`` ("module:attribute")."""
        super().__init__(name, help=help_line, add_help_option=False)
        self.target = target

    def load(self):
        """Import and return the real command."""
        module, attribute = self.target.split(":")
        return getattr(importlib.import_module(module), attribute)

    def make_context(self, info_name, args, parent=None, **extra):
        """Parse ``args`` with the real command's options: the real command then runs."""
        return self.load().make_context(info_name, args, parent=parent, **extra)


def init_app(app):
    """Add the lazy commands to ``flask --app session_counter``."""
    for name, (target, help_line) in LAZY_COMMANDS.items():
        app.cli.add_command(LazyCommand(name, target, help_line))
