"""`flask --app session_counter sessions ...`: commands that manage the session files."""

import click
from flask import current_app
from flask.cli import AppGroup

from .file_lock import lock_folder
from .sweep import prune_folder


@click.group("sessions", cls=AppGroup, help="Manage the per-client session files.")
def sessions_cli():
    """Group of session commands."""


@sessions_cli.command("prune")
def prune_command():
    """Delete expired (and damaged) session files and report how many."""
    folder = current_app.config["SESSION_DIR"]
    expired, damaged, kept = prune_folder(folder, old_lock_folder=lock_folder(current_app))
    click.echo(f"Pruned {expired} expired and {damaged} damaged session files "
               f"in {folder}; {kept} live sessions kept.")
