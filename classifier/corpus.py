"""The project's authored seed corpus (``datasets/seed``): loading, checking and fixed splits."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from classifier.errors import DataError
from classifier.loaders import CHAT, MULTILABEL, Dataset, file_sha256, read_jsonl_rows
from classifier.taxonomy import LABEL_IDS

SEED_DIR = Path(__file__).resolve().parent.parent / "datasets" / "seed"
TAGS = frozenset({"diacritics", "no_diacritics", "teencode", "obfuscated", "emoji", "english_mix", "northern",
                  "central", "southern", "child", "teen", "adult"})
NEAR_DUPLICATE = 0.8
SPLIT_FRACTIONS = {"heldout": 0.2, "dev": 0.1}


@dataclass
class SeedRow:
    id: str
    text: str
    labels: list[str]
    hard_negative: bool
    tags: list[str]
    file: str
    line: int


@dataclass
class CorpusReport:
    rows: int = 0
    per_label: dict[str, int] = field(default_factory=dict)
    benign: int = 0
    hard_negatives: int = 0
    per_tag: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    near_duplicates: list[tuple[str, str, float]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.near_duplicates


def read_seed(folder: str | Path = SEED_DIR) -> list[SeedRow]:
    """Every row of every ``*.jsonl`` file in ``folder``; raises DataError on a malformed row."""
    folder = Path(folder)
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise DataError("no *.jsonl files in the seed corpus folder", path=folder)
    rows = []
    for path in files:
        for line, obj in read_jsonl_rows(path):
            missing = [k for k in ("id", "text", "labels", "hard_negative", "tags") if k not in obj]
            if missing:
                raise DataError(f"missing field(s) {', '.join(missing)}", path=path, line=line)
            rows.append(SeedRow(str(obj["id"]), obj["text"], list(obj["labels"]), bool(obj["hard_negative"]),
                                list(obj["tags"]), path.name, line))
    return rows


def _tokens(text: str) -> set[str]:
    return set(text.lower().split())


def near_duplicates(texts: list[str], threshold: float = NEAR_DUPLICATE) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, jaccard)``, ``i < j``, of texts whose lower-cased word sets overlap at ``threshold`` or more.

    Comparing every pair through common words ("em", "anh") would touch nearly all n² pairs; a
    prefix filter keeps it near-linear: with words ordered rarest first, two sets with Jaccard >= t
    must share a word among the first ``n - ceil(t * n) + 1`` words of each, so only pairs sharing such
    a word are scored exactly.
    """
    token_sets = [_tokens(text) for text in texts]
    frequency: Counter = Counter(token for tokens in token_sets for token in tokens)
    rank = {token: r for r, (token, _) in enumerate(sorted(frequency.items(), key=lambda kv: (kv[1], kv[0])))}
    full_indptr, full_indices, prefix_indptr, prefix_indices = [0], [], [0], []
    for tokens in token_sets:
        ids = sorted(rank[token] for token in tokens)
        full_indices.extend(ids)
        full_indptr.append(len(full_indices))
        prefix_indices.extend(ids[: len(ids) - math.ceil(threshold * len(ids) - 1e-9) + 1] if ids else [])
        prefix_indptr.append(len(prefix_indices))
    shape = (len(texts), max(len(rank), 1))
    full = sp.csr_matrix((np.ones(len(full_indices), np.float32), full_indices, full_indptr), shape=shape)
    prefix = sp.csr_matrix((np.ones(len(prefix_indices), np.float32), prefix_indices, prefix_indptr), shape=shape)
    candidates = sp.triu(prefix @ prefix.T, k=1).tocoo()
    first, second = candidates.row, candidates.col
    overlap = np.asarray(full[first].multiply(full[second]).sum(axis=1)).ravel()
    sizes = np.diff(full.indptr).astype(np.float32)
    union = sizes[first] + sizes[second] - overlap
    scores = np.divide(overlap, union, out=np.ones_like(union), where=union > 0)
    keep = np.flatnonzero(scores >= threshold)
    return sorted((int(first[k]), int(second[k]), float(scores[k])) for k in keep)


def check_corpus(rows: list[SeedRow]) -> CorpusReport:
    """Schema, label and tag names, unique ids, no near-duplicates, and per-label / per-tag counts."""
    report = CorpusReport(rows=len(rows))
    ids = Counter(row.id for row in rows)
    report.problems += [f"duplicate id {i}" for i, n in ids.items() if n > 1]
    labels: Counter = Counter()
    tags: Counter = Counter()
    for row in rows:
        where = f"{row.file}:{row.line}"
        if not isinstance(row.text, str) or not row.text.strip():
            report.problems.append(f"{where}: empty text")
        bad = [label for label in row.labels if label not in LABEL_IDS]
        if bad:
            report.problems.append(f"{where}: unknown label(s) {', '.join(bad)}")
        if row.hard_negative and row.labels:
            report.problems.append(f"{where}: a hard negative must have no labels")
        if "hate" in row.labels and "offensive" not in row.labels:
            report.problems.append(f"{where}: a hate row is offensive too (label guide, rule 12)")
        if len(set(row.labels)) != len(row.labels):
            report.problems.append(f"{where}: a label is repeated")
        unknown_tags = [t for t in row.tags if t not in TAGS]
        if unknown_tags:
            report.problems.append(f"{where}: unknown tag(s) {', '.join(unknown_tags)}")
        labels.update(set(row.labels))
        tags.update(set(row.tags))
        report.benign += not row.labels
        report.hard_negatives += row.hard_negative
    report.per_label = {label: labels.get(label, 0) for label in LABEL_IDS}
    report.per_tag = dict(sorted(tags.items(), key=lambda kv: -kv[1]))
    texts = [row.text for row in rows]
    report.near_duplicates = [(rows[i].id, rows[j].id, round(s, 3)) for i, j, s in near_duplicates(texts)]
    return report


def split_part(row_id: str) -> str:
    """``heldout`` (20 %, evaluation only), ``dev`` (10 %, threshold tuning) or ``train`` for one row id.

    Decided by a hash of the id alone, so a row never changes side when labels are corrected or rows
    are added elsewhere, and the split is the same on every machine. Because the hash is independent
    of the labels, every label is represented in each part in proportion (stratified in expectation;
    ``tests/test_corpus.py`` checks each label's share of the hold-out).
    """
    position = int(hashlib.sha256(row_id.encode("utf-8")).hexdigest()[:8], 16) / 2**32
    if position < SPLIT_FRACTIONS["heldout"]:
        return "heldout"
    if position < SPLIT_FRACTIONS["heldout"] + SPLIT_FRACTIONS["dev"]:
        return "dev"
    return "train"


def split_of(rows: list[SeedRow]) -> dict[str, str]:
    """The fixed split of every row id (see :func:`split_part`)."""
    return {row.id: split_part(row.id) for row in rows}


def seed_dataset(rows: list[SeedRow], name: str = "seed") -> Dataset:
    """Rows as a multi-label :class:`Dataset` that annotates all nine labels."""
    known = frozenset(LABEL_IDS)
    return Dataset([r.text for r in rows], [list(r.labels) for r in rows], MULTILABEL, list(LABEL_IDS), name=name,
                   known=[known] * len(rows), line_numbers=[r.line for r in rows],
                   hard_negative=[r.hard_negative for r in rows], domains=[CHAT] * len(rows))


def load_seed_splits(folder: str | Path = SEED_DIR) -> dict[str, tuple[Dataset, list[SeedRow]]]:
    rows = read_seed(folder)
    assignment = split_of(rows)
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.jsonl")):
        digest.update(file_sha256(path).encode())
    result = {}
    for part in ("train", "dev", "heldout"):
        members = [row for row in rows if assignment[row.id] == part]
        data = seed_dataset(members, name=f"seed-{part}")
        data.sha256 = digest.hexdigest()
        result[part] = (data, members)
    return result
