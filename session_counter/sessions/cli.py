"""`flask --app session_counter sessions ...`: commands that manage the session files."""

import click
from flask import current_app
from flask.cli import AppGroup

from .file_lock import FileSessionLocks, lock_folder
from .sweep import prune_folder


@click.group("sessions", cls=AppGroup, help="Manage the per-client session files.")
def sessions_cli():
    """Group of session commands."""


@sessions_cli.command("prune")
def prune_command():
    """Delete expired (and damaged) session files and report how many."""
    folder = current_app.config["SESSION_DIR"]
    locks = FileSessionLocks(lock_folder(current_app), timeout=0)
    expired, damaged, kept = prune_folder(folder, locks=locks)
    click.echo(f"Pruned {expired} expired and {damaged} damaged session files "
               f"in {folder}; {kept} live sessions kept.")
