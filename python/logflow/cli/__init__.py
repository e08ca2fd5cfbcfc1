"""The ``logflow`` command line."""

from logflow.cli.app import main

__all__ = ["main"]
