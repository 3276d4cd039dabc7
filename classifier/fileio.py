"""Writing result files atomically: a reader never sees half a file, a crash never leaves one."""

from __future__ import annotations

import json
from pathlib import Path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file renamed into place."""
    path = Path(path)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path


def write_json_atomic(path: str | Path, data, *, indent: int | None = 2) -> Path:
    """Write ``data`` as UTF-8 JSON (non-ASCII kept readable) through :func:`write_text_atomic`."""
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return write_text_atomic(path, text + "\n" if indent is not None else text)


def bom_encoding(head: bytes) -> str | None:
    """The encoding that a file's first bytes announce with a byte-order mark, or None without one."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return None


def json_to_array(data):
    """``data`` as a uint8 array of UTF-8 JSON, to store settings inside a pickle-free ``.npz``."""
    import numpy as np

    return np.frombuffer(json.dumps(data).encode("utf-8"), dtype=np.uint8)


def array_to_json(array):
    """The inverse of :func:`json_to_array`."""
    return json.loads(array.tobytes().decode("utf-8"))
