"""Shared CLI pieces: error handling (one line on stderr, exit 1), model loading, consoles."""

from __future__ import annotations

import functools
import sys
from enum import Enum

import typer
from rich.console import Console

from classifier.errors import VnguardError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class Lang(str, Enum):
    vi = "vi"
    en = "en"


def fail(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True, markup=True)
    raise typer.Exit(1)


def handle_errors(function):
    """Turn library errors into one clear line on stderr and exit status 1 (no traceback)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except VnguardError as error:
            fail(_escape(str(error)))
        except (FileNotFoundError, IsADirectoryError, PermissionError) as error:
            fail(_escape(f"{error.filename}: {error.strerror}"))
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise typer.Exit(130) from None
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(0) from None

    return wrapper


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def load_model(name_or_path):
    """``classifier.load`` with a spinner-free, quiet failure path for the CLI."""
    import warnings

    from classifier.model import load

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = load(name_or_path)
    for warning in caught:
        err_console.print(f"[yellow]warning:[/] {_escape(str(warning.message))}")
    return model
