"""The `famplan` command (click + rich): parses, calls the service layer, prints."""

from famplan_core.cli.app import cli, main

__all__ = ["cli", "main"]
