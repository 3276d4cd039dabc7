"""Batch scoring of large files: streaming, ordered, parallel, resumable, atomic.

:func:`score_file` reads CSV/TSV/JSONL/Parquet (or stdin) in chunks of rows, scores each chunk (in
worker processes with ``jobs > 1``), and appends the scored rows in input order to
``<output>.partial``. After every chunk a checkpoint (``<output>.checkpoint.json``) records how many
input records are done, a digest of them, and the byte size of the output and errors files, so
``resume=True`` continues an interrupted run (crash, Ctrl-C, ``--on-error fail``) and produces a
file byte-identical to an uninterrupted run. The output is renamed into place only on success.

Memory stays constant: at most ``2 * jobs`` chunks are in flight. Bad rows (broken quoting, invalid
JSON, undecodable bytes, empty or missing text, over-long text) are reported with their line number
and skipped, or stop the run. Message text is never logged: the errors file holds line, row, column,
reason and the id column only.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import itertools
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np

from classifier.errors import DataError, MissingDependencyError, VnguardError
from classifier.fileio import bom_encoding, write_json_atomic
from classifier.taxonomy import CLEAN, RISK_LEVELS, risk_level

MAX_TEXT_CHARS = 100_000
CHECKPOINT_SUFFIX = ".checkpoint.json"
PARTIAL_SUFFIX = ".partial"
CHECKPOINT_VERSION = 1
STDIO = "-"

# Undecodable input bytes become this character, so that one bad row is reported instead of the
# whole file failing, whatever the codec (``surrogateescape`` cannot escape bytes below 0x80 in UTF-16).
_UNDECODABLE = "\udcff"
_DECODE_ERRORS = "vnguard-undecodable"
codecs.register_error(_DECODE_ERRORS, lambda error: (_UNDECODABLE * (error.end - error.start), error.end))

_SNIFF_LINES = 50
_BLOCK_CHARS = 1 << 16  # small, so that the progress position (read-ahead included) stays close
_HEAD_BYTES = 64
_PROBABILITY_TEXT = np.array([f"{i / 10000:.4f}" for i in range(10001)], dtype=object)


class FileFormat(str, Enum):
    auto = "auto"
    csv = "csv"
    tsv = "tsv"
    jsonl = "jsonl"
    parquet = "parquet"


class OnError(str, Enum):
    skip = "skip"
    fail = "fail"


@dataclass
class ScoreOptions:
    """Options of :func:`score_file` (see ``vnguard score --help``).

    Parameters
    ----------
    text_col : str, default="text"
        Column (CSV/TSV/Parquet) or field (JSONL) holding the message.
    id_col : str or None, default=None
        Column that must exist; its value is copied into the errors file to find bad rows.
    input_format, output_format : FileFormat, default=FileFormat.auto
        ``auto`` decides by file extension (and content for stdin); stdout gets the input's format.
    sep : str or None, default=None
        CSV delimiter; sniffed from the first lines when ``None``.
    encoding : str or None, default=None
        Input encoding when the file has no BOM (UTF-8 and UTF-16 BOMs are detected); default UTF-8.
    chunk_size : int, default=4096
        Rows per chunk: the unit of parallel work, progress and checkpoints.
    jobs : int, default=1
        Worker processes; 1 scores in this process.
    thresholds : dict, default={}
        Per-label decision thresholds overriding the model's (multi-label models only).
    only_flagged : bool, default=False
        Write only rows with at least one flagged label.
    min_risk : {"none", "low", "medium", "high"} or None, default=None
        Write only rows whose risk is at least this level.
    on_error : OnError, default=OnError.skip
        ``skip`` reports and skips bad rows; ``fail`` stops at the first one, keeping what is done.
    errors_path : Path or None, default=None
        JSON Lines file listing every bad row (line, row, column, reason, id; never the text).
    resume : bool, default=False
        Continue an interrupted run from its checkpoint.
    max_chars : int, default=100000
        Longer texts are bad rows.
    """

    text_col: str = "text"
    id_col: str | None = None
    input_format: FileFormat = FileFormat.auto
    output_format: FileFormat = FileFormat.auto
    sep: str | None = None
    encoding: str | None = None
    chunk_size: int = 4096
    jobs: int = 1
    thresholds: dict[str, float] = field(default_factory=dict)
    only_flagged: bool = False
    min_risk: str | None = None
    on_error: OnError = OnError.skip
    errors_path: Path | None = None
    resume: bool = False
    max_chars: int = MAX_TEXT_CHARS


@dataclass
class ScoreSummary:
    """What a run did; counts include the rows done before a resume."""

    rows_read: int = 0
    rows_scored: int = 0
    rows_written: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    resumed_from: int = 0
    output: str | None = None
    errors_output: str | None = None

    @property
    def rate(self) -> float:
        """Records per second in this run (rows done before a resume excluded)."""
        done = self.rows_read - self.resumed_from
        return done / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        return asdict(self) | {"rate": round(self.rate, 1)}


class ScoringInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`score_file`; ``summary`` says how far it got, ``partial`` where it is kept."""

    def __init__(self, summary: ScoreSummary, partial: Path | None, resumable: bool) -> None:
        super().__init__()
        self.summary = summary
        self.partial = partial
        self.resumable = resumable


def checkpoint_path(output_path: str | Path) -> Path:
    """Where :func:`score_file` keeps the checkpoint of a run writing ``output_path``."""
    output = Path(output_path)
    return output.with_name(output.name + CHECKPOINT_SUFFIX)


def partial_path(path: str | Path) -> Path:
    """The temporary file written in place of ``path`` until the run succeeds."""
    path = Path(path)
    return path.with_name(path.name + PARTIAL_SUFFIX)


# --- input: bytes, formats, encodings ----------------------------------------------------------------


class _Prefixed(io.RawIOBase):
    """A raw stream serving ``head`` and then the rest of ``stream`` (to peek at stdin)."""

    def __init__(self, head: bytes, stream) -> None:
        self._head = head
        self._stream = stream
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            self.served += size
            return size
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        self.served += len(data)
        return len(data)


@dataclass
class _Input:
    binary: object
    head: bytes
    size: int | None
    outer: object
    compressed: bool
    text: io.TextIOWrapper | None = None

    def position(self) -> int:
        """Bytes read so far (of the compressed file for gzip)."""
        raw = getattr(self.outer, "raw", None)
        return raw.served if isinstance(raw, _Prefixed) else self.outer.tell()

    def close(self) -> None:
        for stream in (self.text, self.binary, self.outer):
            if stream is not None:
                stream.close()


def _open_binary(path: str) -> _Input:
    if path == STDIO:
        stdin = sys.stdin.buffer
        head = stdin.read(_HEAD_BYTES)
        binary = io.BufferedReader(_Prefixed(head, stdin))
        size = None
    else:
        source = Path(path)
        if not source.exists():
            raise DataError("file not found", path=path)
        if source.is_dir():
            raise DataError("is a folder, expected a file", path=path)
        binary = open(source, "rb")  # noqa: SIM115 - closed by score_file
        head = binary.read(_HEAD_BYTES)
        binary.seek(0)
        size = source.stat().st_size
    outer = binary
    compressed = head.startswith(b"\x1f\x8b")
    if compressed:
        binary = gzip.GzipFile(fileobj=outer, mode="rb")
        try:
            head = binary.peek(_HEAD_BYTES)[:_HEAD_BYTES]
        except (OSError, EOFError) as error:
            outer.close()
            raise DataError(f"not a readable gzip file: {error}", path=path) from None
    return _Input(binary, head, size, outer, compressed)


def _strip_bom(head: bytes) -> bytes:
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if head.startswith(bom):
            return head[len(bom):]
    return head


def detect_format(path: str, declared: FileFormat, head: bytes = b"") -> FileFormat:
    """The file format: ``declared`` unless ``auto``; else by extension, else by content."""
    if declared is not FileFormat.auto:
        return declared
    if head.startswith(b"PAR1"):
        return FileFormat.parquet
    name = Path(path).name.lower().removesuffix(".gz")
    suffix = Path(name).suffix
    by_suffix = {".csv": FileFormat.csv, ".tsv": FileFormat.tsv, ".tab": FileFormat.tsv, ".jsonl": FileFormat.jsonl,
                 ".ndjson": FileFormat.jsonl, ".json": FileFormat.jsonl, ".parquet": FileFormat.parquet,
                 ".pq": FileFormat.parquet}
    if suffix in by_suffix:
        return by_suffix[suffix]
    start = _strip_bom(head).lstrip()
    if start.startswith(b"{") or start.startswith(b"{\x00"):
        return FileFormat.jsonl
    return FileFormat.csv


def _choose_encoding(head: bytes, declared: str | None) -> str:
    announced = bom_encoding(head)
    if announced:
        return announced
    if declared:
        try:
            return codecs.lookup(declared).name
        except LookupError:
            raise DataError(f"unknown encoding {declared!r} (try utf-8, utf-16 or cp1258)") from None
    return "utf-8"


def _is_clean(value: str) -> bool:
    return _UNDECODABLE not in value


# --- problems and records -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Why a row is skipped. ``kind`` is a short category for the summary; never holds message text."""

    kind: str
    message: str
    column: int | None = None


_UNDECODABLE_PROBLEM = "undecodable bytes (wrong --encoding? try --encoding cp1258)"
_MISSING_VALUES = frozenset({"nan", "NaN", "NAN"})


def _text_problem(value, column: int | None, max_chars: int) -> Problem | None:
    if isinstance(value, str):
        if len(value) > max_chars:
            return Problem("text too long", f"text longer than {max_chars:,} characters", column)
        if not value or value.isspace():
            return Problem("empty text", "empty text", column)
        if value in _MISSING_VALUES:
            return Problem("missing text", "missing text (NaN)", column)
        return None
    if value is None or (isinstance(value, float) and value != value):
        return Problem("missing text", "missing text (null or NaN)", column)
    return Problem("missing text", f"text is {type(value).__name__}, not a string", column)


# A record is (line, row, text, problem, fingerprint): ``line`` is the first physical line (None for
# Parquet), ``row`` the list (CSV) or dict (JSONL, Parquet) of fields, ``fingerprint`` the bytes the
# checkpoint digest covers (None where the input's size and time stand in for it).
Record = tuple


def _validate_columns(options: ScoreOptions, columns: list[str], path: str, line: int | None = 1) -> None:
    import difflib

    for name, what in ((options.text_col, "text"), (options.id_col, "id")):
        if name is None or name in columns:
            continue
        close = difflib.get_close_matches(name, columns, n=1)
        hint = f"; did you mean --{what}-col {close[0]!r}?" if close else ""
        found = ", ".join(repr(c) for c in columns) or "(none)"
        raise DataError(f"no {what} column {name!r}; columns found: {found}{hint}", path=path, line=line)


def _field_id(row, id_col: str | None) -> str | None:
    """The id of a JSON/Parquet row for the errors file, if there is one."""
    if id_col is None or not isinstance(row, dict) or row.get(id_col) is None:
        return None
    return str(row[id_col])


def _line_blocks(handle, head: list[str]) -> Iterator[list[str]]:
    if head:
        yield head
    while True:
        block = handle.readlines(_BLOCK_CHARS)
        if not block:
            return
        yield block


def _parse_sample(lines: list[str], delimiter: str) -> list[list[str]]:
    rows = []
    try:
        for row in csv.reader(lines, delimiter=delimiter):
            rows.append(row)
    except csv.Error:
        pass
    return rows


def sniff_delimiter(lines: list[str], text_col: str | None = None) -> str:
    """The delimiter among ``, tab ; |`` that best splits ``lines`` (header first) into a table.

    A delimiter whose header holds ``text_col`` wins; then the one giving the most rows with the
    header's field count; then the most columns. ``,`` when nothing splits the header.
    """
    best, best_score = ",", None
    for delimiter in (",", "\t", ";", "|"):
        rows = [row for row in _parse_sample(lines, delimiter) if row]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (text_col in rows[0], sum(len(row) == width for row in rows[1:]), width)
        if best_score is None or score > best_score:
            best, best_score = delimiter, score
    return best


class _CsvReader:
    """CSV/TSV records; a malformed record is reported at its first line and reading resumes after it.

    Lines are read in blocks and parsed by the C ``csv`` module; a record still open at the end of a
    block (a quoted field spanning lines) is parsed again together with the next block.
    """

    def __init__(self, handle, head: list[str], path: str, options: ScoreOptions, delimiter: str,
                 field_limit: int) -> None:
        self.path = path
        self.options = options
        self.delimiter = delimiter
        self.field_limit = field_limit
        self.previous_field_limit = csv.field_size_limit(field_limit)
        self._blocks = _line_blocks(handle, head)
        self._rows_iter = self._rows()
        header = self._header()
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        if not all(_is_clean(name) for name in header):
            raise DataError(f"the header row is not valid {options.encoding or 'UTF-8'}; "
                            "pass --encoding (e.g. cp1258)", path=path, line=1)
        _validate_columns(options, header, path)
        self.columns = header
        self.text_index = header.index(options.text_col)
        self.id_index = header.index(options.id_col) if options.id_col else None

    def _header(self) -> list[str]:
        for line, row, message in self._rows_iter:
            if message is not None:
                raise DataError(f"malformed header: {message}", path=self.path, line=line)
            return row
        raise DataError("empty file, expected a header row", path=self.path, line=1)

    def _reader(self, lines: list[str], start: int):
        return csv.reader(itertools.islice(lines, start, None), delimiter=self.delimiter, strict=True)

    def _rows(self) -> Iterator[tuple[int, list[str] | None, str | None]]:
        """``(first line number, fields or None, error or None)``; blank lines are skipped."""
        lines: list[str] = []
        position = 0  # index in ``lines`` of the next record's first line
        first_number = 1  # line number of lines[0]
        exhausted = False
        while True:
            block = next(self._blocks, None)
            if block is None:
                exhausted = True
            else:
                first_number += position
                lines = lines[position:] + block if position < len(lines) else block
                position = 0
            if position >= len(lines):
                if exhausted:
                    return
                continue
            base = position
            reader = self._reader(lines, base)
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    position = len(lines)
                    break
                except csv.Error as error:
                    if not exhausted and base + reader.line_num >= len(lines):
                        break  # the record may go on in the next block: parse it again with it
                    yield first_number + position, None, self._message(error)
                    position += 1
                    base = position
                    reader = self._reader(lines, base)
                    continue
                start, position = position, base + reader.line_num
                if row:
                    yield first_number + start, row, None
            if exhausted and position >= len(lines):
                return

    def _message(self, error: csv.Error) -> str:
        message = str(error)
        if message.startswith("field larger than field limit"):
            return f"a field longer than {self.field_limit:,} characters (or an unclosed quote)"
        return message

    def records(self) -> Iterator[Record]:
        width = len(self.columns)
        text_index = self.text_index
        max_chars = self.options.max_chars
        separator = "\x1f"
        for line, row, message in self._rows_iter:
            if row is None:
                yield line, None, None, Problem("malformed", f"malformed CSV: {message}"), None
                continue
            if len(row) != width:
                if len(row) > width and not any(row[width:]):
                    row = row[:width]  # a trailing delimiter
                else:
                    problem = Problem("malformed", f"expected {width} fields, found {len(row)}")
                    yield line, row, None, problem, None
                    continue
            try:
                fingerprint = separator.join(row).encode("utf-8")
            except UnicodeEncodeError:
                column = next(i for i, value in enumerate(row) if not _is_clean(value)) + 1
                yield line, row, None, Problem("undecodable", _UNDECODABLE_PROBLEM, column), None
                continue
            text = row[text_index]
            if 0 < len(text) <= max_chars and not text.isspace() and text not in _MISSING_VALUES:
                yield line, row, text, None, fingerprint
            else:
                yield line, row, None, _text_problem(text, text_index + 1, max_chars), fingerprint

    def row_id(self, row) -> str | None:
        if self.id_index is None or row is None or self.id_index >= len(row):
            return None
        return row[self.id_index]


class _JsonlReader:
    """JSON Lines records: one object per line; blank lines are ignored."""

    def __init__(self, lines: Iterator[str], path: str, options: ScoreOptions) -> None:
        self.path = path
        self.options = options
        self._first: list[str] = []
        self.columns: list[str] = []
        for line in lines:
            self._first.append(line)
            stripped = line.strip()
            if len(self._first) == 1 and stripped.startswith("["):
                raise DataError("this is a JSON array, not JSON Lines (one object per line); convert it, "
                                "e.g. jq -c '.[]'", path=path, line=1)
            if not stripped:
                continue
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError:
                value = None
            if isinstance(value, dict):
                self.columns = list(value)
                _validate_columns(options, self.columns, path, line=len(self._first))
                break
            if len(self._first) >= _SNIFF_LINES:
                break
        self._lines = lines

    def records(self) -> Iterator[Record]:
        text_col, max_chars = self.options.text_col, self.options.max_chars
        number = 0
        for source in (self._first, self._lines):
            for line in source:
                number += 1
                if not line or line.isspace():
                    continue
                try:
                    fingerprint = line.encode("utf-8")
                except UnicodeEncodeError:
                    column = line.index(_UNDECODABLE) + 1
                    yield number, None, None, Problem("undecodable", _UNDECODABLE_PROBLEM, column), None
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as error:
                    problem = Problem("malformed", f"invalid JSON: {error.msg}", error.pos + 1)
                    yield number, None, None, problem, fingerprint
                    continue
                if not isinstance(row, dict):
                    yield number, None, None, Problem("malformed", "expected a JSON object", 1), fingerprint
                    continue
                text = row.get(text_col)
                if text_col not in row:
                    problem = Problem("missing text", f"no field {text_col!r}")
                else:
                    problem = _text_problem(text, None, max_chars)
                yield number, row, None if problem else text, problem, fingerprint

    def row_id(self, row) -> str | None:
        return _field_id(row, self.options.id_col)


class _ParquetReader:
    """Parquet records, read one batch of rows at a time (needs pyarrow)."""

    def __init__(self, path: str, options: ScoreOptions) -> None:
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise MissingDependencyError("reading Parquet needs pyarrow: pip install 'vnguard[parquet]'",
                                         path=path) from None
        if path == STDIO:
            raise DataError("Parquet cannot be read from stdin; give the file name")
        try:
            self.file = pq.ParquetFile(path)
        except Exception as error:  # pyarrow raises several unrelated types for a broken file
            raise DataError(f"not a readable Parquet file: {error}", path=path) from None
        self.options = options
        self.columns = list(self.file.schema_arrow.names)
        _validate_columns(options, self.columns, path, line=None)
        self.total = self.file.metadata.num_rows
        self.done = 0

    def records(self) -> Iterator[Record]:
        text_col, max_chars = self.options.text_col, self.options.max_chars
        for batch in self.file.iter_batches(batch_size=max(self.options.chunk_size, 1024)):
            for row in batch.to_pylist():
                self.done += 1
                text = row.get(text_col)
                problem = _text_problem(text, None, max_chars)
                yield None, row, None if problem else text, problem, None

    def row_id(self, row) -> str | None:
        return _field_id(row, self.options.id_col)

    def close(self) -> None:
        self.file.close()


# --- scoring and formatting (runs in worker processes) --------------------------------------------------


def output_columns(model, input_columns: list[str]) -> list[str]:
    """Input columns (minus any the scores replace) followed by ``p_<label>``, flagged/prediction, risk."""
    added = _added_columns(model)
    return [c for c in input_columns if c not in added] + added


def _added_columns(model) -> list[str]:
    decision = "flagged" if model.is_multilabel else "prediction"
    return [f"p_{label}" for label in model.labels] + [decision, "risk"]


class ChunkScorer:
    """Scores a chunk of rows and formats the output lines: the unit of work sent to worker processes.

    Parameters
    ----------
    model : Classifier
        The model; for a multi-label model ``thresholds`` replace its thresholds.
    input_columns : list of str
        Columns of the input (CSV header, first JSON object's keys, Parquet schema).
    output_format : FileFormat
        ``csv``, ``tsv`` or ``jsonl``.
    thresholds : dict
        Decision threshold per label (multi-label).
    only_flagged : bool
    min_risk : str or None
    """

    def __init__(self, model, input_columns: list[str], output_format: FileFormat, thresholds: dict[str, float],
                 only_flagged: bool = False, min_risk: str | None = None) -> None:
        self.model = model
        self.thresholds = np.asarray([thresholds[label] for label in model.labels]) if model.is_multilabel else None
        self._bits = 1 << np.arange(len(model.labels), dtype=np.int64)
        self.input_columns = list(input_columns)
        self.output_format = output_format
        self.only_flagged = only_flagged
        self.min_rank = RISK_LEVELS.index(min_risk) if min_risk else 0
        added = _added_columns(model)
        self.columns = output_columns(model, input_columns)
        self.kept = [i for i, c in enumerate(input_columns) if c not in added]
        self.drop_clashes = len(self.kept) != len(input_columns)
        self.added = frozenset(added)
        self._decisions: dict = {}
        self._json_keys = [json.dumps(c, ensure_ascii=False) + ": " for c in added[:-2]]
        self._json_decision = json.dumps(added[-2]) + ": "

    def header(self) -> bytes:
        if self.output_format is FileFormat.jsonl:
            return b""
        return self._csv_text([self.columns]).encode("utf-8")

    def _csv_text(self, rows: list[list]) -> str:
        buffer = io.StringIO()
        delimiter = "\t" if self.output_format is FileFormat.tsv else ","
        csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
        return buffer.getvalue()

    def _decision(self, key) -> tuple:
        """``(flagged labels, CSV value, JSON value, risk, risk rank)`` for a label bit mask or a class name."""
        if self.model.is_multilabel:
            flagged = [label for j, label in enumerate(self.model.labels) if key >> j & 1]
            csv_value, json_value = ";".join(flagged), json.dumps(flagged, ensure_ascii=False)
        else:
            flagged = [] if key == CLEAN else [key]
            csv_value, json_value = key, json.dumps(key, ensure_ascii=False)
        risk = risk_level(flagged)
        decision = (tuple(flagged), csv_value, json_value, risk, RISK_LEVELS.index(risk))
        self._decisions[key] = decision
        return decision

    def decisions(self, proba: np.ndarray) -> list[tuple]:
        """One cached :meth:`_decision` per row of ``proba``."""
        if self.model.is_multilabel:
            # Classifier.decide's rule (probability >= threshold) as one bit per label, so rows share decisions.
            keys = ((proba >= self.thresholds) @ self._bits).tolist()
        else:
            keys = self.model.decide(proba)
        cache = self._decisions
        return [cache.get(key) or self._decision(key) for key in keys]

    def __call__(self, rows: list, texts: list[str]) -> tuple[bytes, int, dict[str, int]]:
        """``(output bytes, rows written, flagged count per label)`` for ``rows`` and their ``texts``."""
        # Exports repeat messages (spam, "haha", emoji-only comments): score each distinct text once.
        distinct: dict[str, int] = {}
        positions = [distinct.setdefault(text, len(distinct)) for text in texts]
        proba = self.model.predict_proba(list(distinct))
        if len(distinct) < len(texts):
            proba = proba[positions]
        decisions = self.decisions(proba)
        counts: Counter = Counter()
        for flagged, count in Counter(d[0] for d in decisions).items():
            for label in flagged:
                counts[label] += count
        dropped = [(self.only_flagged and not d[0]) or d[4] < self.min_rank for d in decisions]
        indices = [i for i, drop in enumerate(dropped) if not drop]
        scaled = np.rint(np.clip(np.nan_to_num(proba[indices]), 0.0, 1.0) * 10000).astype(np.intp)
        probabilities = _PROBABILITY_TEXT[scaled].tolist()
        if self.output_format is FileFormat.jsonl:
            text = self._jsonl(rows, decisions, indices, probabilities)
        else:
            text = self._csv(rows, decisions, indices, probabilities)
        return text.encode("utf-8", "backslashreplace"), len(indices), dict(counts)

    def _csv(self, rows, decisions, indices, probabilities) -> str:
        out = []
        dict_rows = rows and isinstance(rows[0], dict)
        for i, values in zip(indices, probabilities, strict=True):
            row = rows[i]
            if dict_rows:
                row = [_csv_value(row.get(c)) for c in self.input_columns]
            if self.drop_clashes:
                row = [row[k] for k in self.kept if k < len(row)]
            decision = decisions[i]
            out.append(row + values + [decision[1], decision[3]])
        return self._csv_text(out)

    def _jsonl(self, rows, decisions, indices, probabilities) -> str:
        lines = []
        keys, decision_key = self._json_keys, self._json_decision
        for i, values in zip(indices, probabilities, strict=True):
            row = rows[i]
            if not isinstance(row, dict):
                row = dict(zip(self.input_columns, row, strict=False))
            if self.added.intersection(row):
                row = {k: v for k, v in row.items() if k not in self.added}
            head = json.dumps(row, ensure_ascii=False, default=str)
            decision = decisions[i]
            scores = ", ".join([key + value for key, value in zip(keys, values, strict=True)])
            lines.append(f'{head[:-1]}{", " if row else ""}{scores}, {decision_key}{decision[2]}, '
                         f'"risk": "{decision[3]}"}}\n')
        return "".join(lines)


def _csv_value(value):
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


_WORKER_SCORER: ChunkScorer | None = None


def _score_in_worker(rows: list, texts: list[str]):
    return _WORKER_SCORER(rows, texts)


def _worker_loop(connection, scorer: ChunkScorer) -> None:
    """A worker process: score each ``(rows, texts)`` received, send back the result, stop on ``None``."""
    import signal
    import traceback

    # Ctrl-C goes to the whole process group: the parent handles it and stops the workers, which die
    # at once on SIGTERM even where the parent turned SIGTERM into an interrupt.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    global _WORKER_SCORER
    _WORKER_SCORER = scorer
    while True:
        try:
            work = connection.recv()
        except (EOFError, OSError):
            return
        if work is None:
            return
        try:
            result = (True, _score_in_worker(*work))
        except Exception:
            result = (False, traceback.format_exc())
        connection.send(result)


# --- chunks, ordered parallel map -------------------------------------------------------------------------


@dataclass
class _Chunk:
    rows: list
    texts: list[str]
    problems: list[tuple]  # (row number, line, problem, id)
    records: int  # input records done once this chunk is written
    digest: str
    position: int = 0  # how far the input was read once this chunk was complete (bytes, or rows for Parquet)
    failure: tuple | None = None  # (row number, line, problem) that stops an --on-error fail run


def _fingerprint(line, problem: Problem | None, fingerprint: bytes | None) -> bytes:
    """What the checkpoint digest covers for one record: its bytes, or where it failed and why."""
    if fingerprint is not None:
        return fingerprint
    return b"" if problem is None else f"{line}\x1e{problem.kind}\x1e{problem.message}".encode()


def _chunks(reader, options: ScoreOptions, skip: int, expected_digest: str | None,
            position: Callable[[], int]) -> Iterator[_Chunk]:
    """Group records into chunks; the first ``skip`` records (done before a resume) are only hashed."""
    digest = hashlib.blake2b(digest_size=16)
    fail = options.on_error is OnError.fail
    records = reader.records()
    done = 0
    if skip:
        for line, _row, _text, problem, fingerprint in records:
            done += 1
            digest.update(_fingerprint(line, problem, fingerprint))
            if done == skip:
                break
        if done < skip or digest.hexdigest() != expected_digest:
            raise DataError("the input differs from the one the checkpoint was made with (in the rows already "
                            "scored); delete the checkpoint and the .partial file to start again",
                            path=getattr(reader, "path", None))
    rows, texts, problems = [], [], []
    for line, row, text, problem, fingerprint in records:
        if problem is None:
            rows.append(row)
            texts.append(text)
            digest.update(_fingerprint(line, problem, fingerprint))
        elif fail:
            yield _Chunk(rows, texts, problems, done, digest.hexdigest(), position(), (done + 1, line, problem))
            return
        else:
            problems.append((done + 1, line, problem, reader.row_id(row)))
            digest.update(_fingerprint(line, problem, fingerprint))
        done += 1
        if len(rows) + len(problems) >= options.chunk_size:
            yield _Chunk(rows, texts, problems, done, digest.hexdigest(), position())
            rows, texts, problems = [], [], []
    if rows or problems or not done:
        yield _Chunk(rows, texts, problems, done, digest.hexdigest(), position())


def _ordered_results(scorer: ChunkScorer, chunks: Iterator[_Chunk], jobs: int):
    """Yield ``(chunk, result)`` in input order, scoring in ``jobs`` worker processes when ``jobs > 1``.

    The workers start only once a second chunk exists, so small inputs stay in this process.
    """
    first = next(chunks, None)
    if first is None:
        return
    second = next(chunks, None) if jobs > 1 else None
    if second is None:
        yield first, scorer(first.rows, first.texts) if first.texts else _NOTHING
        for chunk in chunks:
            yield chunk, scorer(chunk.rows, chunk.texts) if chunk.texts else _NOTHING
        return
    yield from _WorkerPool(scorer, jobs).ordered(itertools.chain((first, second), chunks))


_NOTHING = (b"", 0, {})


class _WorkerPool:
    """Worker processes fed one chunk at a time through their own pipe; results come back in input order.

    No helper threads, so stopping (Ctrl-C, an error) is immediate and quiet: the workers are
    terminated; a worker that dies (killed, out of memory) is an error, never a hang.
    """

    def __init__(self, scorer: ChunkScorer, jobs: int) -> None:
        import multiprocessing
        import signal

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.jobs = jobs
        self.workers = []
        # Workers start with Ctrl-C blocked, until they have chosen to ignore it.
        mask = getattr(signal, "pthread_sigmask", None)
        blocked = mask(signal.SIG_BLOCK, {signal.SIGINT}) if mask else None
        try:
            for _ in range(jobs):
                parent, child = context.Pipe()
                process = context.Process(target=_worker_loop, args=(child, scorer), daemon=True)
                process.start()
                child.close()
                self.workers.append((process, parent))
        finally:
            if mask:
                mask(signal.SIG_SETMASK, blocked)

    def ordered(self, chunks: Iterator[_Chunk]):
        from multiprocessing.connection import wait

        idle = [connection for _, connection in self.workers]
        busy: dict = {}  # connection -> index of the chunk it scores
        waiting: dict[int, _Chunk] = {}  # read, not yet yielded
        results: dict[int, tuple] = {}
        next_in = next_out = 0
        lost = None  # index of the first chunk whose worker died: what comes before it is still written
        exhausted = finished = False
        try:
            while True:
                while idle and not exhausted and lost is None and len(waiting) < 2 * self.jobs:
                    chunk = next(chunks, None)
                    if chunk is None:
                        exhausted = True
                        break
                    waiting[next_in] = chunk
                    if not chunk.texts:
                        results[next_in] = _NOTHING
                    else:
                        connection = idle.pop()
                        try:
                            connection.send((chunk.rows, chunk.texts))
                            busy[connection] = next_in
                        except OSError:
                            lost = next_in
                    next_in += 1
                while next_out in results:
                    yield waiting.pop(next_out), results.pop(next_out)
                    next_out += 1
                if lost is not None and (next_out >= lost or not busy):
                    raise VnguardError("a worker process died (out of memory? killed?); what was done is kept: "
                                       "rerun with --resume, perhaps with fewer --jobs")
                if not busy:
                    if exhausted:
                        finished = True
                        return
                    continue
                for connection in wait(list(busy)):
                    index = busy.pop(connection)
                    try:
                        ok, value = connection.recv()
                    except (EOFError, OSError):
                        lost = index if lost is None else min(lost, index)
                        continue
                    if not ok:
                        raise RuntimeError(f"scoring failed in a worker process:\n{value}")
                    results[index] = value
                    idle.append(connection)
        finally:
            self.close(finished)

    def close(self, finished: bool) -> None:
        for process, connection in self.workers:
            try:
                if finished:
                    connection.send(None)
                    continue
            except OSError:
                pass
            process.terminate()  # chunks still being scored would never be written
        for process, connection in self.workers:
            process.join()
            connection.close()


# --- output files, checkpoint -----------------------------------------------------------------------------


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _check_output_path(path: str, input_path: str, what: str) -> None:
    target = Path(path)
    if target.is_dir():
        raise DataError(f"the {what} is a folder, expected a file name", path=path)
    folder = target.parent
    if not folder.is_dir():
        raise DataError(f"the folder for the {what} does not exist: {folder}", path=path)
    if not os.access(folder, os.W_OK):
        raise DataError(f"cannot write in the folder of the {what}: {folder}", path=path)
    if input_path != STDIO and _same_file(path, input_path):
        raise DataError(f"refusing to overwrite the input file with the {what}; choose another name", path=path)


def _run_key(input_path: str, in_format: FileFormat, encoding: str | None, delimiter: str | None,
             out_format: FileFormat, thresholds: dict, options: ScoreOptions, model) -> dict:
    """Everything the output bytes depend on besides the input rows (which the digest covers)."""
    from classifier import __version__

    key = {"version": CHECKPOINT_VERSION, "vnguard": __version__, "input": os.path.abspath(input_path),
           "input_format": in_format.value, "encoding": encoding, "sep": delimiter, "text_col": options.text_col,
           "id_col": options.id_col,
           "output_format": out_format.value, "thresholds": thresholds, "only_flagged": options.only_flagged,
           "min_risk": options.min_risk, "max_chars": options.max_chars,
           "model": model.manifest.get("artifacts") or str(model.path)}
    if in_format is FileFormat.parquet:
        stat = os.stat(input_path)
        key |= {"size": stat.st_size, "mtime": stat.st_mtime}
    return key


class _Sink:
    """The ``.partial`` output and errors files plus the checkpoint; renamed into place on success."""

    def __init__(self, output_path: str, errors_path: Path | None, checkpointing: bool) -> None:
        self.to_stdout = output_path == STDIO
        self.final = None if self.to_stdout else Path(output_path)
        self.partial = None if self.final is None else partial_path(self.final)
        self.checkpoint = checkpoint_path(self.final) if checkpointing else None
        self.errors_final = None if errors_path is None else Path(errors_path)
        self.errors_partial = None if errors_path is None else partial_path(errors_path)
        self.out = None
        self.errors = None
        self.out_bytes = 0
        self.errors_bytes = 0

    def load_checkpoint(self, key: dict, resume: bool) -> dict | None:
        if self.final is None:
            return None
        checkpoint = checkpoint_path(self.final)
        if not checkpoint.exists():
            return None
        if not resume:
            raise DataError("an interrupted run left this checkpoint; add --resume to continue it, or delete it "
                            f"(and {self.partial.name}) to start again", path=checkpoint)
        if self.checkpoint is None:
            raise DataError("--resume needs a named input file, not stdin", path=checkpoint)
        try:
            state = json.loads(checkpoint.read_text(encoding="utf-8"))
            missing = {"key", "records", "digest", "output_bytes", "summary"} - set(state)
            if missing:
                raise ValueError(f"it lacks {', '.join(sorted(missing))}")
        except (OSError, ValueError, TypeError) as error:
            raise DataError(f"unreadable checkpoint ({error}); delete it to start again", path=checkpoint) from None
        saved = state.get("key", {})
        changed = sorted(name for name in key.keys() | saved.keys() if key.get(name) != saved.get(name))
        if changed:
            raise DataError(f"the checkpoint was made with a different {', '.join(changed)}; rerun with the same "
                            "input and options, or delete it to start again", path=checkpoint)
        errors_before = state["summary"].get("errors", 0)
        if errors_before and state.get("errors_path") != self._errors_name():
            raise DataError(f"the interrupted run had {errors_before} bad row(s) listed in "
                            f"{state.get('errors_path') or 'no --errors file'}; resume with the same --errors",
                            path=checkpoint)
        for path, size in ((self.partial, state["output_bytes"]), (self.errors_partial, state.get("errors_bytes"))):
            if path is not None and size and (not path.exists() or path.stat().st_size < size):
                raise DataError(f"{path.name} is missing or shorter than the checkpoint says; delete the checkpoint "
                                "to start again", path=checkpoint)
        return state

    def _errors_name(self) -> str | None:
        return None if self.errors_final is None else os.path.abspath(self.errors_final)

    def open(self, state: dict | None, header: bytes) -> None:
        if self.to_stdout:
            self.out = sys.stdout.buffer
        else:
            self.out = self._open_truncated(self.partial, state["output_bytes"] if state else None)
        self.out_bytes = state["output_bytes"] if state else 0
        if self.errors_partial is not None:
            self.errors = self._open_truncated(self.errors_partial, state.get("errors_bytes", 0) if state else None)
            self.errors_bytes = state.get("errors_bytes", 0) if state else 0
        if state is None and header:
            self.write(header)

    @staticmethod
    def _open_truncated(path: Path, size: int | None):
        if size is None:
            return open(path, "wb")
        handle = open(path, "r+b") if path.exists() else open(path, "wb")  # noqa: SIM115
        handle.truncate(size)
        handle.seek(size)
        return handle

    def write(self, data: bytes) -> None:
        if data:
            self.out.write(data)
            self.out_bytes += len(data)

    def write_problems(self, problems: list[tuple]) -> None:
        if self.errors is None or not problems:
            return
        lines = []
        for row_number, line, problem, row_id in problems:
            entry = {"line": line, "row": row_number, "column": problem.column, "error": problem.message}
            if row_id is not None:
                entry["id"] = row_id
            lines.append(json.dumps(entry, ensure_ascii=False) + "\n")
        data = "".join(lines).encode("utf-8", "backslashreplace")
        self.errors.write(data)
        self.errors_bytes += len(data)

    def write_chunk(self, data: bytes, chunk: _Chunk, key: dict, summary: ScoreSummary) -> None:
        """Append a scored chunk and its bad rows, then checkpoint; a full disk becomes a clear error."""
        try:
            self.write(data)
            self.write_problems(chunk.problems)
            self.save(key, chunk, summary)
        except BrokenPipeError:
            raise
        except OSError as error:
            kept = f"; what was done is kept in {self.partial}, rerun with --resume" if self.checkpoint else ""
            raise DataError(f"cannot write: {error.strerror or error}{kept}",
                            path=error.filename or self.final or "stdout") from None

    def save(self, key: dict, chunk: _Chunk, summary: ScoreSummary) -> None:
        """Flush and record progress; on a crash, anything written after this point is cut off on resume."""
        self.out.flush()
        if self.errors is not None:
            self.errors.flush()
        if self.checkpoint is not None:
            write_json_atomic(self.checkpoint, indent=None, data={
                "key": key, "records": chunk.records, "digest": chunk.digest, "output_bytes": self.out_bytes,
                "errors_bytes": self.errors_bytes, "errors_path": self._errors_name(), "summary": asdict(summary),
            })

    def close(self) -> None:
        if self.out is not None and not self.to_stdout:
            self.out.close()
        if self.errors is not None:
            self.errors.close()

    def commit(self) -> None:
        if self.partial is not None:
            self.partial.replace(self.final)
        if self.errors_partial is not None:
            self.errors_partial.replace(self.errors_final)
        if self.checkpoint is not None:
            self.checkpoint.unlink(missing_ok=True)


# --- the run ------------------------------------------------------------------------------------------------


def _open_reader(input_path: str, in_format: FileFormat, source: _Input | None, options: ScoreOptions):
    """``(reader, encoding, delimiter)`` for the input."""
    if in_format is FileFormat.parquet:
        if source is not None and source.compressed:
            raise DataError("gzip-compressed Parquet is not supported; Parquet compresses itself", path=input_path)
        return _ParquetReader(input_path, options), None, None
    if source.head.startswith(b"PK\x03\x04"):
        raise DataError("this looks like an Excel or ZIP file; export it as CSV (UTF-8) first", path=input_path)
    encoding = _choose_encoding(source.head, options.encoding)
    text = io.TextIOWrapper(source.binary, encoding=encoding, errors=_DECODE_ERRORS, newline="")
    source.text = text  # closing the wrapper (also when it is garbage-collected) closes the file
    if in_format is FileFormat.jsonl:
        return _JsonlReader(text, input_path, options), encoding, None
    delimiter = _delimiter(options.sep) if options.sep else "\t" if in_format is FileFormat.tsv else None
    head: list[str] = []
    if delimiter is None:
        head = [line for _, line in zip(range(_SNIFF_LINES), text, strict=False)]
        delimiter = sniff_delimiter(head, options.text_col)
    field_limit = max(8 * options.max_chars, 1 << 22)
    return _CsvReader(text, head, input_path, options, delimiter, field_limit), encoding, delimiter


def _delimiter(sep: str) -> str:
    named = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    delimiter = named.get(sep.lower(), sep)
    if len(delimiter) != 1 or delimiter in "\"\r\n":
        raise DataError(f"--sep must be one character (or tab), got {sep!r}")
    return delimiter


def _check_options(model, options: ScoreOptions) -> dict[str, float]:
    if options.min_risk is not None and options.min_risk not in RISK_LEVELS:
        raise DataError(f"--min-risk must be one of {', '.join(RISK_LEVELS)}, got {options.min_risk!r}")
    if options.thresholds and not model.is_multilabel:
        raise DataError("--threshold applies to multi-label models; this model is multi-class")
    unknown = sorted(set(options.thresholds) - set(model.labels))
    if unknown:
        raise DataError(f"threshold for unknown label(s) {', '.join(unknown)}; labels: {', '.join(model.labels)}")
    for label, value in options.thresholds.items():
        if not 0.0 <= value <= 1.0:
            raise DataError(f"threshold for {label} must be between 0 and 1, got {value}")
    if options.id_col is not None and options.id_col == options.text_col:
        raise DataError("--id-col must differ from --text-col: the errors file never holds message text")
    if options.chunk_size < 1 or options.jobs < 1 or options.max_chars < 1:
        raise DataError("chunk_size, jobs and max_chars must be at least 1")
    return {**model.thresholds, **options.thresholds} if model.is_multilabel else {}


def score_file(model, input_path: str | Path, output_path: str | Path, options: ScoreOptions | None = None, *,
               progress: Callable[[ScoreSummary, int, int | None], None] | None = None) -> ScoreSummary:
    """Score every row of ``input_path`` with ``model`` and write ``output_path`` (see the module docs).

    Parameters
    ----------
    model : Classifier
        A loaded model (:func:`classifier.load`).
    input_path : str or Path
        CSV, TSV, JSONL or Parquet file, optionally gzip-compressed (not Parquet); ``"-"`` reads stdin.
    output_path : str or Path
        CSV, TSV or JSONL file (format by extension or ``options.output_format``); ``"-"`` writes stdout.
    options : ScoreOptions or None, default=None
    progress : callable or None, default=None
        Called after every chunk as ``progress(summary, position, total)``: position and total in bytes
        of the input file (rows for Parquet); ``total`` is None for stdin.

    Returns
    -------
    ScoreSummary

    Raises
    ------
    DataError
        Unreadable input (missing file, unknown column, bad header), bad options, a checkpoint that does
        not match, and with ``on_error="fail"`` the first bad row (naming its line and column).
    ScoringInterrupted
        On Ctrl-C; the partial output and checkpoint are kept for ``resume=True``.
    """
    options = options or ScoreOptions()
    started = time.perf_counter()
    input_path, output_path = str(input_path), str(output_path)
    thresholds = _check_options(model, options)
    from_stdin = input_path == STDIO
    if output_path != STDIO:
        _check_output_path(output_path, input_path, "output")
        if options.errors_path is not None and _same_file(output_path, options.errors_path):
            raise DataError("the errors file and the output are the same file", path=options.errors_path)
    if options.errors_path is not None:
        _check_output_path(str(options.errors_path), input_path, "errors file")
    if options.resume and from_stdin:
        raise DataError("--resume needs a named input file, not stdin")

    source = None
    if options.input_format is not FileFormat.parquet:
        source = _open_binary(input_path)
    reader = None
    sink = None
    summary = None
    try:
        in_format = detect_format(input_path, options.input_format, source.head if source else b"")
        if in_format is FileFormat.parquet and source is not None and not source.compressed:
            source.close()
        out_format = _output_format(output_path, options.output_format, in_format)
        reader, encoding, delimiter = _open_reader(input_path, in_format, source, options)
        key = _run_key(input_path, in_format, encoding, delimiter, out_format, thresholds, options, model)
        sink = _Sink(output_path, options.errors_path, checkpointing=not from_stdin and output_path != STDIO)
        state = sink.load_checkpoint(key, options.resume)
        scorer = ChunkScorer(model, reader.columns, out_format, thresholds, options.only_flagged, options.min_risk)
        if state is not None:
            fields = ScoreSummary.__dataclass_fields__
            summary = ScoreSummary(**{k: v for k, v in state["summary"].items() if k in fields})
            summary.resumed_from = state["records"]
            summary.seconds = 0.0
        else:
            summary = ScoreSummary(flagged={label: 0 for label in model.labels})
        summary.output = None if sink.final is None else str(sink.final)
        summary.errors_output = None if sink.errors_final is None else str(sink.errors_final)
        sink.open(state, scorer.header())
        if isinstance(reader, _ParquetReader):
            position, total = (lambda: reader.done), reader.total
        else:
            position, total = source.position, source.size
        chunks = _chunks(reader, options, state["records"] if state else 0, state["digest"] if state else None,
                         position)

        results = _ordered_results(scorer, chunks, options.jobs)
        try:
            for chunk, (data, written, counts) in results:
                _account(summary, chunk, written, counts)
                summary.seconds = time.perf_counter() - started
                sink.write_chunk(data, chunk, key, summary)
                if progress is not None:
                    progress(summary, chunk.position, total)
                if chunk.failure is not None:
                    raise _failure(chunk.failure, input_path, sink, summary, reader)
        finally:
            results.close()
    except KeyboardInterrupt:
        if summary is None:
            raise
        raise ScoringInterrupted(summary, sink.partial, resumable=sink.checkpoint is not None) from None
    finally:
        if sink is not None:
            sink.close()
        if isinstance(reader, _ParquetReader):
            reader.close()
        if isinstance(reader, _CsvReader):
            csv.field_size_limit(reader.previous_field_limit)
        if source is not None:
            source.close()
    sink.commit()
    summary.seconds = time.perf_counter() - started
    return summary


def _output_format(output_path: str, declared: FileFormat, in_format: FileFormat) -> FileFormat:
    if declared is FileFormat.auto and output_path == STDIO:
        return FileFormat.csv if in_format is FileFormat.parquet else in_format
    if output_path != STDIO and Path(output_path).suffix.lower() == ".gz":
        raise DataError("compressed output is not supported; write to '-' and pipe through gzip", path=output_path)
    chosen = detect_format(output_path, declared)
    if chosen is FileFormat.parquet:
        raise DataError("Parquet output is not supported; write CSV, TSV or JSONL", path=output_path)
    return chosen


def _account(summary: ScoreSummary, chunk: _Chunk, written: int, counts: dict[str, int]) -> None:
    summary.rows_read = chunk.records
    summary.rows_scored += len(chunk.texts)
    summary.rows_written += written
    summary.errors += len(chunk.problems)
    for _, _, problem, _ in chunk.problems:
        summary.error_kinds[problem.kind] = summary.error_kinds.get(problem.kind, 0) + 1
    for label, count in counts.items():
        summary.flagged[label] = summary.flagged.get(label, 0) + count


def _failure(failure: tuple, input_path: str, sink: _Sink, summary: ScoreSummary, reader) -> DataError:
    row_number, line, problem = failure
    if sink.partial is None:
        kept = "the rows before it were written to stdout"
    else:
        kept = f"the {summary.rows_written:,} rows written before it are kept in {sink.partial}"
        if sink.checkpoint is not None:
            kept += "; fix the row and rerun with --resume to continue, or use --on-error skip"
    where = f" (row {row_number})" if line is None else ""
    error = DataError(f"{problem.message}{where}; stopped by --on-error fail: {kept}", path=input_path,
                      line=line, column=problem.column)
    return error
