"""Readers for the public Vietnamese datasets and for generic CSV / JSON Lines files.

Every reader returns a :class:`Dataset`; every problem is a :class:`~classifier.errors.DataError`
that names the file, line and column.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np

from classifier.errors import DataError
from classifier.fileio import bom_encoding
from classifier.taxonomy import CLEAN

MULTICLASS = "multiclass"
MULTILABEL = "multilabel"

#: Domains of text (``Dataset.domains``): public social-media comments (ViHSD, ViHOS, SafeSense) and
#: private chat messages (the authored seed corpus).
COMMENTS = "comments"
CHAT = "chat"

#: Class names of the three-class datasets, by their integer label.
THREE_CLASSES = (CLEAN, "offensive", "hate")


class DataFormat(str, Enum):
    vihsd = "vihsd"
    vihos = "vihos"
    safesense = "safesense"
    csv = "csv"
    jsonl = "jsonl"


@dataclass
class Dataset:
    """Texts with labels.

    For a multi-class dataset ``targets`` holds one class name per text. For a multi-label dataset
    it holds a list of label ids per text and ``known`` says which labels each row annotates (a
    dataset speaks only for the labels it annotates). ``spans`` holds character offsets of
    offensive spans where the source has them (ViHOS). ``hard_negative`` marks benign rows that look
    risky on the surface (the seed corpus); training can give them more weight. ``domains`` names
    the kind of text of each row (:data:`COMMENTS` for public social-media comments, :data:`CHAT` for
    the authored chat messages); without it every row counts as the dataset's ``name``.
    """

    texts: list[str]
    targets: list
    task: str
    labels: list[str]
    name: str = ""
    path: str | None = None
    sha256: str | None = None
    known: list[frozenset[str]] | None = None
    spans: list[list[int]] | None = None
    line_numbers: list[int] = field(default_factory=list)
    hard_negative: list[bool] | None = None
    domains: list[str] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def indicator(self, labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(Y, mask)`` arrays of shape (n, len(labels)) for a multi-label dataset.

        ``mask[i, j]`` is False where row ``i`` does not annotate label ``j``.
        """
        index = {label: j for j, label in enumerate(labels)}
        y = np.zeros((len(self), len(labels)), dtype=np.int8)
        mask = np.zeros((len(self), len(labels)), dtype=bool)
        for i, row in enumerate(self.targets):
            for label in row:
                if label in index:
                    y[i, index[label]] = 1
            known = self.known[i] if self.known is not None else frozenset(self.labels)
            for label in known:
                if label in index:
                    mask[i, index[label]] = True
        return y, mask

    def trainable_indicator(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """``(labels, Y, mask)`` like :meth:`indicator`, kept to the labels a model can learn.

        A label is learnable when its annotated rows include both positives and negatives; raises
        :class:`DataError` when no label is.
        """
        y, mask = self.indicator(self.labels)
        positives = np.array([y[mask[:, j], j].sum() for j in range(len(self.labels))])
        usable = np.flatnonzero((positives > 0) & (positives < mask.sum(axis=0)))
        if not len(usable):
            raise DataError("training data has no label with both positive and negative rows", path=self.path)
        return [self.labels[j] for j in usable], y[:, usable], mask[:, usable]

    def row_domains(self) -> list[str]:
        """The domain of every row (the dataset's ``name`` where no domain is recorded)."""
        return list(self.domains) if self.domains is not None else [self.name] * len(self)

    def subset(self, indices: Sequence[int]) -> Dataset:
        pick = list(indices)
        return Dataset(
            texts=[self.texts[i] for i in pick],
            targets=[self.targets[i] for i in pick],
            task=self.task,
            labels=list(self.labels),
            name=self.name,
            path=self.path,
            sha256=self.sha256,
            known=None if self.known is None else [self.known[i] for i in pick],
            spans=None if self.spans is None else [self.spans[i] for i in pick],
            line_numbers=[self.line_numbers[i] for i in pick] if self.line_numbers else [],
            hard_negative=None if self.hard_negative is None else [self.hard_negative[i] for i in pick],
            domains=None if self.domains is None else [self.domains[i] for i in pick],
        )


def combine(datasets: Sequence[Dataset], name: str = "combined") -> Dataset:
    """Concatenate datasets of one task; in a multi-label result each row keeps the labels its source annotates."""
    labels: list[str] = []
    tasks = {data.task for data in datasets}
    if len(tasks) > 1:
        raise DataError("cannot combine multi-class and multi-label datasets; convert the multi-class ones first")
    for data in datasets:
        labels.extend(label for label in data.labels if label not in labels)
    if tasks == {MULTICLASS}:
        return Dataset([t for d in datasets for t in d.texts], [t for d in datasets for t in d.targets], MULTICLASS,
                       labels, name=name)
    texts, targets, known, spans, hard, domains = [], [], [], [], [], []
    for data in datasets:
        domains.extend(data.row_domains())
        texts.extend(data.texts)
        targets.extend(data.targets)
        known.extend(data.known if data.known is not None else [frozenset(data.labels)] * len(data))
        spans.extend(data.spans if data.spans is not None else [[] for _ in data.texts])
        hard.extend(data.hard_negative if data.hard_negative is not None else [False] * len(data))
    return Dataset(texts, targets, MULTILABEL, labels, name=name, known=known, spans=spans,
                   hard_negative=hard if any(hard) else None, domains=domains)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- low-level readers --------------------------------------------------------------------------

def _check_file(path: Path) -> None:
    if not path.exists():
        raise DataError("file not found", path=path)
    if path.is_dir():
        raise DataError("is a folder, expected a file", path=path)


def _open_text(path: Path):
    with open(path, "rb") as handle:
        head = handle.read(4)
    return open(path, encoding=bom_encoding(head) or "utf-8-sig", newline="")


def _decode_error(path: Path, error: UnicodeDecodeError) -> DataError:
    return DataError(f"not valid UTF-8 near byte {error.start}; convert the file to UTF-8", path=path)


def read_csv_rows(path: Path, columns: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line_number, [values of columns])`` for each row of a CSV file with a header."""
    _check_file(path)
    try:
        with _open_text(path) as handle:
            reader = csv.reader(handle)
            try:
                header = next(reader)
            except StopIteration:
                raise DataError("empty file, expected a header row", path=path, line=1) from None
            missing = [c for c in columns if c not in header]
            if missing:
                raise DataError(
                    f"missing column {missing[0]!r}; columns found: {', '.join(header) or '(none)'}",
                    path=path, line=1,
                )
            positions = [header.index(c) for c in columns]
            for row in reader:
                if not row:
                    continue
                if len(row) < len(header):
                    raise DataError(
                        f"expected {len(header)} fields, found {len(row)}",
                        path=path, line=reader.line_num, column=len(row) + 1,
                    )
                yield reader.line_num, [row[p] for p in positions]
    except csv.Error as error:
        raise DataError(f"malformed CSV: {error}", path=path, line=getattr(reader, "line_num", None)) from None
    except UnicodeDecodeError as error:
        raise _decode_error(path, error) from None


def read_jsonl_rows(path: Path) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSON Lines file."""
    _check_file(path)
    try:
        with _open_text(path) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as error:
                    raise DataError(f"invalid JSON: {error.msg}", path=path, line=number,
                                    column=error.colno) from None
                if not isinstance(value, dict):
                    raise DataError("expected a JSON object on each line", path=path, line=number, column=1)
                yield number, value
    except UnicodeDecodeError as error:
        raise _decode_error(path, error) from None


# --- dataset formats ----------------------------------------------------------------------------

def _three_class(path: Path, text_col: str, label_col: str, name: str) -> Dataset:
    texts, targets, lines = [], [], []
    for line, (text, label) in read_csv_rows(path, [text_col, label_col]):
        try:
            targets.append(THREE_CLASSES[int(label)])
        except (ValueError, IndexError):
            raise DataError(f"label must be 0, 1 or 2, found {label!r}", path=path, line=line, column=2) from None
        texts.append(text)
        lines.append(line)
    return Dataset(texts, targets, MULTICLASS, list(THREE_CLASSES), name=name, path=str(path),
                   sha256=file_sha256(path), line_numbers=lines, domains=[COMMENTS] * len(texts))


def load_vihsd(path: str | Path) -> Dataset:
    """UIT-ViHSD (``free_text,label_id``): classes clean / offensive / hate."""
    return _three_class(Path(path), "free_text", "label_id", "vihsd")


def load_safesense(path: str | Path) -> Dataset:
    """SafeSense-VI (``text,label``): classes clean / offensive / hate."""
    return _three_class(Path(path), "text", "label", "safesense")


def load_vihos(path: str | Path) -> Dataset:
    """ViHOS (``content,index_spans``): an ``offensive`` label wherever a span is present."""
    path = Path(path)
    texts, targets, spans, lines = [], [], [], []
    for line, (text, raw_spans) in read_csv_rows(path, ["content", "index_spans"]):
        try:
            offsets = json.loads(raw_spans) if raw_spans.strip() else []
            if not isinstance(offsets, list) or not all(isinstance(o, int) for o in offsets):
                raise ValueError
        except ValueError:
            raise DataError(f"index_spans must be a JSON list of integers, found {raw_spans[:40]!r}",
                            path=path, line=line, column=2) from None
        texts.append(text)
        spans.append(offsets)
        targets.append(["offensive"] if offsets else [])
        lines.append(line)
    return Dataset(texts, targets, MULTILABEL, ["offensive"], name="vihos", path=str(path),
                   sha256=file_sha256(path), known=[frozenset({"offensive"})] * len(texts), spans=spans,
                   line_numbers=lines, domains=[COMMENTS] * len(texts))


def _split_labels(value) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(";") if part.strip()]


def _generic(rows: list[tuple[int, str, object]], path: Path, task: str | None, name: str) -> Dataset:
    multilabel = task == MULTILABEL or (
        task is None and any(isinstance(v, list) or ";" in str(v) or str(v).strip() == "" for _, _, v in rows)
    )
    texts = [text for _, text, _ in rows]
    lines = [line for line, _, _ in rows]
    if multilabel:
        targets = [_split_labels(value) for _, _, value in rows]
        labels = sorted({label for row in targets for label in row})
        return Dataset(texts, targets, MULTILABEL, labels, name=name, path=str(path),
                       sha256=file_sha256(path), known=[frozenset(labels)] * len(texts), line_numbers=lines)
    targets = [str(value).strip() for _, _, value in rows]
    return Dataset(texts, targets, MULTICLASS, sorted(set(targets)), name=name, path=str(path),
                   sha256=file_sha256(path), line_numbers=lines)


def load_csv(path: str | Path, text_col: str = "text", label_col: str = "label",
             task: str | None = None) -> Dataset:
    """A CSV file with a header; several labels in one cell are separated by ``;``."""
    path = Path(path)
    rows = [(line, text, label) for line, (text, label) in read_csv_rows(path, [text_col, label_col])]
    return _generic(rows, path, task, path.stem)


def load_jsonl(path: str | Path, text_col: str = "text", label_col: str = "label",
               task: str | None = None) -> Dataset:
    """A JSON Lines file; the label field is a string, a ``;``-joined string or a list.

    An optional boolean ``hard_negative`` field (the seed corpus has one) and an optional string
    ``domain`` field (``Dataset.domains``; the file's name where absent) are kept on the dataset.
    """
    path = Path(path)
    rows, hard, domains = [], [], []
    for line, obj in read_jsonl_rows(path):
        for column in (text_col, label_col):
            if column not in obj:
                raise DataError(f"missing field {column!r}; fields found: {', '.join(obj)}", path=path, line=line)
        if not isinstance(obj[text_col], str):
            raise DataError(f"field {text_col!r} must be a string", path=path, line=line)
        domain = obj.get("domain", path.stem)
        if not isinstance(domain, str) or not domain:
            raise DataError("field 'domain' must be a non-empty string", path=path, line=line)
        rows.append((line, obj[text_col], obj[label_col]))
        hard.append(obj.get("hard_negative") is True)
        domains.append(domain)
    data = _generic(rows, path, task, path.stem)
    data.hard_negative = hard if any(hard) else None
    data.domains = domains
    return data


def load_dataset(path: str | Path, format: DataFormat | str, text_col: str | None = None,
                 label_col: str | None = None) -> Dataset:
    """Read ``path`` in the named format (see :class:`DataFormat`)."""
    fmt = DataFormat(format)
    if fmt is DataFormat.vihsd:
        return load_vihsd(path)
    if fmt is DataFormat.vihos:
        return load_vihos(path)
    if fmt is DataFormat.safesense:
        return load_safesense(path)
    if fmt is DataFormat.csv:
        return load_csv(path, text_col or "text", label_col or "label")
    if fmt is DataFormat.jsonl:
        # The project's own authored corpora keep labels in a "labels" list.
        return load_jsonl(path, text_col or "text", label_col or "labels")
    raise DataError(f"unknown format {format!r}")


def to_multilabel(data: Dataset) -> Dataset:
    """View a three-class dataset as multi-label: hate rows are offensive too, clean rows are neither."""
    if data.task == MULTILABEL:
        return data
    mapping = {CLEAN: [], "offensive": ["offensive"], "hate": ["offensive", "hate"]}
    targets = [mapping.get(t, [t]) for t in data.targets]
    labels = ["offensive", "hate"]
    return Dataset(list(data.texts), targets, MULTILABEL, labels, name=data.name, path=data.path,
                   sha256=data.sha256, known=[frozenset(labels)] * len(data), line_numbers=data.line_numbers,
                   domains=data.domains)
