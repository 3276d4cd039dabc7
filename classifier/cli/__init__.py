"""The ``vnguard`` command line: one module per command, each a thin wrapper over the library."""

from __future__ import annotations

from typing import Annotated

import typer

from classifier import __version__

app = typer.Typer(
    name="vnguard",
    help="Offline Vietnamese classifiers for grooming, cyberbullying and other risky content.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vnguard {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Score Vietnamese messages for nine risk labels, offline."""


def _register() -> None:
    from classifier.cli import chat, check, evaluate, models, score, train

    for module in (check, score, train, evaluate, models, chat):
        module.register(app)


_register()


def main() -> None:
    app()
