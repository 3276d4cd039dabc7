"""Batch scoring of large files: streaming, ordered, parallel, resumable, atomic.

``score_file`` reads CSV/TSV/JSONL/Parquet (or stdin) in chunks, scores each chunk (in worker
processes with ``jobs > 1``), and writes rows in input order to ``<output>.partial``; after every
chunk a checkpoint records how far it got, so ``resume=True`` continues an interrupted run and
produces the same file as an uninterrupted one. The output is renamed into place only on success.
Message text is never logged; the errors file records line, column and reason only.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np

from classifier.errors import DataError, MissingDependencyError
from classifier.taxonomy import RISK_LEVELS, risk_level

MAX_TEXT_CHARS = 100_000
CHECKPOINT_SUFFIX = ".checkpoint.json"
PARTIAL_SUFFIX = ".partial"

csv.field_size_limit(sys.maxsize)


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
class Record:
    line: int
    fields: dict
    text: str | None = None
    error: str | None = None
    column: int | None = None


@dataclass
class ScoreOptions:
    """Options of :func:`score_file` (see ``vnguard score --help``)."""

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
    rows_read: int = 0
    rows_scored: int = 0
    rows_written: int = 0
    errors: int = 0
    flagged: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    resumed_from: int = 0
    output: str | None = None

    @property
    def rate(self) -> float:
        done = self.rows_read - self.resumed_from
        return done / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        return asdict(self) | {"rate": round(self.rate, 1)}


# --- formats and encodings ------------------------------------------------------------------------

def detect_format(path: str, declared: FileFormat) -> FileFormat:
    if declared is not FileFormat.auto:
        return declared
    suffix = Path(path).suffix.lower()
    return {".tsv": FileFormat.tsv, ".tab": FileFormat.tsv, ".jsonl": FileFormat.jsonl, ".ndjson": FileFormat.jsonl,
            ".json": FileFormat.jsonl, ".parquet": FileFormat.parquet}.get(suffix, FileFormat.csv)


def _sniff_encoding(head: bytes, declared: str | None) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if declared:
        try:
            codecs.lookup(declared)
        except LookupError:
            raise DataError(f"unknown encoding {declared!r}") from None
        return declared
    return "utf-8"


def _open_input(path: str, encoding: str | None) -> tuple[io.TextIOBase, str]:
    if path == "-":
        raw = sys.stdin.buffer
        head = raw.peek(4)[:4] if hasattr(raw, "peek") else b""
    else:
        source = Path(path)
        if not source.exists():
            raise DataError("file not found", path=path)
        if source.is_dir():
            raise DataError("is a folder, expected a file", path=path)
        raw = open(source, "rb")  # noqa: SIM115 - closed by the caller through the wrapper
        head = raw.read(4)
        raw.seek(0)
    chosen = _sniff_encoding(head, encoding)
    # surrogateescape keeps undecodable bytes so that one bad row is reported, not the whole file.
    text = io.TextIOWrapper(raw, encoding=chosen, errors="surrogateescape", newline="")
    return text, chosen


def _has_undecodable(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


# --- readers --------------------------------------------------------------------------------------

def _validate_column(name: str | None, columns: list[str], path: str, what: str) -> None:
    if name is not None and name not in columns:
        raise DataError(f"no {what} column {name!r}; columns found: {', '.join(columns) or '(none)'}", path=path,
                        line=1)


def _text_error(value, max_chars: int) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing text"
    if not isinstance(value, str):
        return f"text is {type(value).__name__}, not a string"
    if not value.strip():
        return "empty text"
    if _has_undecodable(value):
        return "undecodable bytes (wrong --encoding?)"
    if len(value) > max_chars:
        return f"text longer than {max_chars} characters"
    return None


def read_csv_records(handle, path: str, options: ScoreOptions, delimiter: str) -> tuple[list[str], Iterator[Record]]:
    reader = csv.reader(handle, delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError("empty file, expected a header row", path=path, line=1) from None
    except csv.Error as error:
        raise DataError(f"malformed header: {error}", path=path, line=1) from None
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    _validate_column(options.text_col, header, path, "text")
    _validate_column(options.id_col, header, path, "id")
    text_index = header.index(options.text_col)

    def records() -> Iterator[Record]:
        line = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield Record(reader.line_num, {}, error=f"malformed CSV: {error}")
                line = reader.line_num
                continue
            start_line, line = line + 1, reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                yield Record(start_line, {}, error=f"expected {len(header)} fields, found {len(row)}",
                             column=min(len(row), len(header)) + 1)
                continue
            fields = dict(zip(header, row, strict=True))
            text = row[text_index]
            error = _text_error(text, options.max_chars)
            yield Record(start_line, fields, text, error, text_index + 1 if error else None)

    return header, records()


def read_jsonl_records(handle, path: str, options: ScoreOptions) -> tuple[list[str], Iterator[Record]]:
    first_lines: list[tuple[int, str]] = []
    columns: list[str] = []
    for number, line in enumerate(handle, start=1):
        first_lines.append((number, line))
        if line.strip():
            try:
                obj = json.loads(line)
                if isinstance(obj, dict):
                    columns = list(obj)
                    break
            except json.JSONDecodeError:
                continue
    if columns:
        _validate_column(options.text_col, columns, path, "text")
        _validate_column(options.id_col, columns, path, "id")

    def lines() -> Iterator[tuple[int, str]]:
        yield from first_lines
        yield from enumerate(handle, start=len(first_lines) + 1)

    def records() -> Iterator[Record]:
        for number, line in lines():
            if not line.strip():
                continue
            if _has_undecodable(line):
                yield Record(number, {}, error="undecodable bytes (wrong --encoding?)")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as error:
                yield Record(number, {}, error=f"invalid JSON: {error.msg}", column=error.colno)
                continue
            if not isinstance(obj, dict):
                yield Record(number, {}, error="expected a JSON object", column=1)
                continue
            if options.text_col not in obj:
                yield Record(number, obj, error=f"no field {options.text_col!r}")
                continue
            text = obj[options.text_col]
            yield Record(number, obj, text if isinstance(text, str) else None, _text_error(text, options.max_chars))

    return columns, records()


def read_parquet_records(path: str, options: ScoreOptions) -> tuple[list[str], Iterator[Record]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError("Parquet needs pyarrow: pip install 'vnguard[parquet]'") from None
    if path == "-":
        raise DataError("Parquet cannot be read from stdin")
    parquet = pq.ParquetFile(path)
    columns = parquet.schema_arrow.names
    _validate_column(options.text_col, columns, path, "text")
    _validate_column(options.id_col, columns, path, "id")

    def records() -> Iterator[Record]:
        number = 0
        for batch in parquet.iter_batches(batch_size=options.chunk_size):
            for row in batch.to_pylist():
                number += 1
                text = row.get(options.text_col)
                yield Record(number, row, text if isinstance(text, str) else None,
                             _text_error(text, options.max_chars))

    return columns, records()


# --- writers --------------------------------------------------------------------------------------

class _Writer:
    def __init__(self, handle, columns: list[str]) -> None:
        self.handle = handle
        self.columns = columns

    def header(self) -> None:  # pragma: no cover - trivial default
        pass


class CsvWriter(_Writer):
    def __init__(self, handle, columns: list[str], delimiter: str = ",") -> None:
        super().__init__(handle, columns)
        self.writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")

    def header(self) -> None:
        self.writer.writerow(self.columns)

    def write(self, rows: list[dict]) -> None:
        self.writer.writerows([[row.get(c, "") for c in self.columns] for row in rows])


class JsonlWriter(_Writer):
    def write(self, rows: list[dict]) -> None:
        self.handle.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


# --- scoring ----------------------------------------------------------------------------------------

_WORKER_MODEL = None


def _worker_predict(texts: list[str]) -> np.ndarray:
    return _WORKER_MODEL.predict_proba(texts)


def _chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def output_columns(model, input_columns: list[str]) -> list[str]:
    added = [f"p_{label}" for label in model.labels]
    added += ["flagged", "risk"] if model.is_multilabel else ["prediction", "risk"]
    return [c for c in input_columns if c not in added] + added


def _checkpoint_key(input_path: str, options: ScoreOptions, model) -> dict:
    stat = os.stat(input_path)
    return {"input": os.path.abspath(input_path), "size": stat.st_size, "mtime": stat.st_mtime,
            "text_col": options.text_col, "model": str(model.path), "thresholds": options.thresholds,
            "only_flagged": options.only_flagged, "min_risk": options.min_risk}


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)


def score_file(model, input_path: str, output_path: str, options: ScoreOptions | None = None, *,
               progress: Callable[[int, int | None], None] | None = None) -> ScoreSummary:
    """Score every row of ``input_path`` with ``model`` and write ``output_path`` (see module docs).

    Raises
    ------
    DataError
        For unreadable input (missing file, unknown column, bad header) and, with
        ``on_error="fail"``, for the first bad row (naming its line and column).
    """
    options = options or ScoreOptions()
    started = time.perf_counter()
    in_format = detect_format(input_path, options.input_format)
    out_format = detect_format(output_path, options.output_format)
    if out_format is FileFormat.parquet:
        raise DataError("Parquet output is not supported; write CSV or JSONL")
    if options.min_risk is not None and options.min_risk not in RISK_LEVELS:
        raise DataError(f"--min-risk must be one of {', '.join(RISK_LEVELS)}")
    unknown = sorted(set(options.thresholds) - set(model.labels))
    if unknown:
        raise DataError(f"threshold for unknown label(s) {', '.join(unknown)}; labels: {', '.join(model.labels)}")
    thresholds = {**model.thresholds, **options.thresholds}
    to_stdout = output_path == "-"
    if options.resume and (to_stdout or input_path == "-"):
        raise DataError("--resume needs a named input and output file, not stdin/stdout")

    handle = None
    if in_format is FileFormat.parquet:
        columns, records = read_parquet_records(input_path, options)
        total = None
    else:
        handle, _ = _open_input(input_path, options.encoding)
        if in_format is FileFormat.jsonl:
            columns, records = read_jsonl_records(handle, input_path, options)
        else:
            delimiter = options.sep or ("\t" if in_format is FileFormat.tsv else None)
            if delimiter is None:
                sample = handle.read(65536)
                handle.seek(0) if input_path != "-" else None
                delimiter = _sniff_delimiter(sample)
                if input_path == "-":
                    handle = io.StringIO(sample + handle.read())
            columns, records = read_csv_records(handle, input_path, options, delimiter)
        total = _count_lines(input_path) if input_path != "-" else None

    out_columns = output_columns(model, columns)
    summary = ScoreSummary(flagged={label: 0 for label in model.labels},
                           output=None if to_stdout else str(output_path))
    final = None if to_stdout else Path(output_path)
    partial = None if final is None else final.with_name(final.name + PARTIAL_SUFFIX)
    checkpoint = None if final is None else final.with_name(final.name + CHECKPOINT_SUFFIX)
    key = None if input_path == "-" else _checkpoint_key(input_path, options, model)

    skip = 0
    if checkpoint is not None and checkpoint.exists():
        state = json.loads(checkpoint.read_text(encoding="utf-8"))
        if not options.resume:
            raise DataError(f"an interrupted run left {checkpoint.name}; add --resume to continue it, "
                            "or delete it to start again", path=checkpoint)
        if state.get("key") != key:
            raise DataError("the checkpoint belongs to another input file or other options; delete it to start "
                            "again", path=checkpoint)
        skip = state["records"]
        fields = ScoreSummary.__dataclass_fields__
        summary = ScoreSummary(**{k: v for k, v in state["summary"].items() if k in fields})
        summary.resumed_from = skip
        with open(partial, "r+b") as out:
            out.truncate(state["bytes"])

    out_handle = sys.stdout if to_stdout else open(partial, "a" if skip else "w", encoding="utf-8", newline="")  # noqa: SIM115
    writer = (JsonlWriter(out_handle, out_columns) if out_format is FileFormat.jsonl
              else CsvWriter(out_handle, out_columns, "\t" if out_format is FileFormat.tsv else ","))
    if not skip:
        writer.header()

    errors_handle = None
    if options.errors_path is not None:
        errors_handle = open(options.errors_path, "a" if skip else "w", encoding="utf-8")  # noqa: SIM115

    pool = None
    predict: Callable[[list[str]], np.ndarray] = model.predict_proba
    try:
        if options.jobs > 1:
            import multiprocessing

            global _WORKER_MODEL
            _WORKER_MODEL = model
            pool = multiprocessing.get_context("fork").Pool(options.jobs)
        record_iter = _skip(records, skip)
        chunk_iter = _chunks(record_iter, options.chunk_size)
        if pool is not None:
            batches = _pipelined(pool, chunk_iter, options.jobs)
        else:
            batches = ((chunk, _predict_valid(predict, chunk)) for chunk in chunk_iter)
        for chunk, proba in batches:
            rows = _format_rows(model, chunk, proba, thresholds, options, summary, errors_handle)
            writer.write(rows)
            summary.rows_written += len(rows)
            summary.rows_read += len(chunk)
            if not to_stdout:
                out_handle.flush()
                if errors_handle is not None:
                    errors_handle.flush()
                summary.seconds = time.perf_counter() - started
                _write_json_atomic(checkpoint, {"key": key, "records": summary.rows_read,
                                                "bytes": out_handle.tell(), "summary": asdict(summary)})
            if progress is not None:
                progress(summary.rows_read, total)
    finally:
        if pool is not None:
            pool.terminate()
        if handle is not None and input_path != "-":
            handle.close()
        if errors_handle is not None:
            errors_handle.close()
        if not to_stdout:
            out_handle.close()
        else:
            out_handle.flush()
    if final is not None:
        partial.replace(final)
        checkpoint.unlink(missing_ok=True)
    summary.seconds = time.perf_counter() - started
    return summary


def _skip(records: Iterator[Record], count: int) -> Iterator[Record]:
    for index, record in enumerate(records):
        if index >= count:
            yield record


def _valid_texts(chunk: list[Record]) -> list[str]:
    return [record.text for record in chunk if record.error is None]


def _predict_valid(predict, chunk: list[Record]) -> np.ndarray:
    texts = _valid_texts(chunk)
    return predict(texts) if texts else np.zeros((0, 0))


def _pipelined(pool, chunk_iter: Iterator[list[Record]], jobs: int):
    """Keep up to ``2 * jobs`` chunks in flight, yield ``(chunk, proba)`` in input order."""
    from collections import deque

    pending: deque = deque()
    for chunk in chunk_iter:
        pending.append((chunk, pool.apply_async(_worker_predict, (_valid_texts(chunk),))))
        if len(pending) >= 2 * jobs:
            done_chunk, result = pending.popleft()
            yield done_chunk, result.get()
    while pending:
        done_chunk, result = pending.popleft()
        yield done_chunk, result.get()


def _format_rows(model, chunk: list[Record], proba: np.ndarray, thresholds: dict[str, float],
                 options: ScoreOptions, summary: ScoreSummary, errors_handle) -> list[dict]:
    rows: list[dict] = []
    threshold_row = np.asarray([thresholds[label] for label in model.labels])
    decisions = None if model.is_multilabel else model.decide(proba) if len(proba) else []
    min_rank = RISK_LEVELS.index(options.min_risk) if options.min_risk else 0
    k = 0
    for record in chunk:
        if record.error is not None:
            summary.errors += 1
            if errors_handle is not None:
                errors_handle.write(json.dumps({"line": record.line, "column": record.column,
                                                "error": record.error}) + "\n")
            if options.on_error is OnError.fail:
                raise DataError(record.error, path=None, line=record.line, column=record.column)
            continue
        probabilities = proba[k]
        if model.is_multilabel:
            flagged = [model.labels[j] for j in np.flatnonzero(probabilities >= threshold_row)]
            extra = {"flagged": ";".join(flagged)}
        else:
            decision = decisions[k]
            flagged = [] if decision == "clean" else [decision]
            extra = {"prediction": decision}
        k += 1
        summary.rows_scored += 1
        for label in flagged:
            summary.flagged[label] = summary.flagged.get(label, 0) + 1
        risk = risk_level(flagged)
        if options.only_flagged and not flagged:
            continue
        if RISK_LEVELS.index(risk) < min_rank:
            continue
        row = dict(record.fields)
        for label, value in zip(model.labels, probabilities, strict=True):
            row[f"p_{label}"] = float(f"{value:.4f}")
        row.update(extra)
        row["risk"] = risk
        rows.append(row)
    return rows


def _count_lines(path: str) -> int | None:
    """Approximate row count (newlines) for the progress bar; None when unknown."""
    try:
        with open(path, "rb") as handle:
            return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return None
