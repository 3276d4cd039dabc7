"""How the bundled default model is built: data, splits, training and its evaluation.

Only MIT-licensed public data (ViHOS, SafeSense) and the project's own authored corpus are used;
ViHSD is research-only and never enters the default model. Splits are fixed and seeded:

- ViHOS ``train.csv``: 90 % train, 10 % dev (threshold tuning); ViHOS ``dev.csv`` is only evaluated.
- SafeSense ``train.csv``: 80 % train, 10 % dev, 10 % hold-out (only evaluated).
- Seed corpus: the fixed split of :func:`classifier.corpus.split_of` (20 % hold-out, only evaluated).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from classifier.loaders import Dataset, combine, load_safesense, load_vihos, to_multilabel

SEED = 13
SHARED_DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"


def shared_datasets(given: Path | None = None, require: str = "") -> Path | None:
    """The public-datasets folder: ``given`` (a script's ``--shared``), else ``$VNGUARD_SHARED_DATASETS``,
    else ``../shared/datasets`` beside the repository; None if it is absent or lacks ``require``
    (a relative path such as ``"vihos"`` or ``"vihsd/dev.csv"``)."""
    import os

    candidate = Path(given or os.environ.get("VNGUARD_SHARED_DATASETS", SHARED_DATASETS))
    return candidate if candidate.is_dir() and (candidate / require).exists() else None


def _split(data: Dataset, fractions: tuple[float, ...], stratify: list) -> list[Dataset]:
    """Split ``data`` into parts of the given fractions (the rest first), stratified and seeded."""
    indices = np.arange(len(data))
    parts = []
    rest, rest_strata = indices, np.asarray(stratify)
    remaining = 1.0
    for fraction in fractions:
        rest, taken, rest_strata, _ = train_test_split(rest, rest_strata, test_size=fraction / remaining,
                                                       random_state=SEED, stratify=rest_strata)
        parts.append(taken)
        remaining -= fraction
    return [data.subset(sorted(rest))] + [data.subset(sorted(p)) for p in parts]


@dataclass
class PublicSplits:
    vihos_train: Dataset
    vihos_dev_part: Dataset
    vihos_dev: Dataset
    safesense_train: Dataset
    safesense_dev: Dataset
    safesense_holdout: Dataset


def public_splits(root: Path) -> PublicSplits:
    vihos = load_vihos(root / "vihos" / "train.csv")
    vihos_train, vihos_dev_part = _split(vihos, (0.1,), [bool(t) for t in vihos.targets])
    safesense = to_multilabel(load_safesense(root / "safesense" / "train.csv"))
    strata = [";".join(t) for t in safesense.targets]
    safesense_train, safesense_dev, safesense_holdout = _split(safesense, (0.1, 0.1), strata)
    for part, name in ((vihos_train, "vihos-train"), (vihos_dev_part, "vihos-train-dev"),
                       (safesense_train, "safesense-train"), (safesense_dev, "safesense-dev"),
                       (safesense_holdout, "safesense-holdout")):
        part.name = name
    return PublicSplits(vihos_train, vihos_dev_part, load_vihos(root / "vihos" / "dev.csv"), safesense_train,
                        safesense_dev, safesense_holdout)


def default_training_data(root: Path, seed_dir: Path | None = None) -> tuple[Dataset, Dataset, dict]:
    """``(train, dev, evaluation sets)`` for the default model."""
    from classifier.corpus import SEED_DIR, load_seed_splits

    public = public_splits(root)
    train_parts = [public.vihos_train, public.safesense_train]
    dev_parts = [public.vihos_dev_part, public.safesense_dev]
    evaluation = {"vihos-dev": public.vihos_dev, "safesense-holdout": public.safesense_holdout}
    seed_dir = seed_dir or SEED_DIR
    if any(Path(seed_dir).glob("*.jsonl")):
        seed = load_seed_splits(seed_dir)
        train_parts.append(seed["train"][0])
        dev_parts.append(seed["dev"][0])
        evaluation["seed-heldout"] = seed["heldout"][0]
        evaluation["_seed_heldout_rows"] = seed["heldout"][1]
    return combine(train_parts, "default-train"), combine(dev_parts, "default-dev"), evaluation | {
        "_parts": train_parts + dev_parts}
