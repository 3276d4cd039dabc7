"""Errors that users can act on. The CLI prints them as one line on stderr, never a traceback."""

from __future__ import annotations

from pathlib import Path


class VnguardError(Exception):
    """Base class: a message plus, where known, the file, line and column it concerns."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column

    def location(self) -> str:
        parts = [p for p in (self.path, self.line, self.column) if p is not None]
        return ":".join(str(p) for p in parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message


class DataError(VnguardError):
    """Input data that cannot be read: missing file or column, bad encoding, broken row."""


class ModelError(VnguardError):
    """A model folder that cannot be loaded or used: missing, tampered with, wrong format."""


class MissingDependencyError(VnguardError):
    """An optional extra (transformer, parquet) is needed but not installed."""
