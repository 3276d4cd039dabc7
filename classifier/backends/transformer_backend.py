"""The transformer backend: fine-tune and serve PhoBERT, ViSoBERT, XLM-R or any BERT-like checkpoint.

Needs the optional extra ``pip install 'vnguard[transformer]'`` (torch, transformers); both are
imported only when a transformer model is trained or loaded.

Text preprocessing
    By default the model sees :func:`classifier.normalize.normalize` of each text: NFC, lower case,
    teencode expanded, obfuscation ("l0n", "n g u") undone, URLs / e-mails / phone numbers /
    @mentions replaced by placeholders, diacritics KEPT. This is the view the explainer occludes,
    so its probabilities match ``check``'s. ``normalize=False`` keeps the raw text (NFC only).
    PhoBERT was pre-trained on word-segmented text: with ``word_segment=True`` each text is also
    segmented with underthesea (``"sinh nhật" -> "sinh_nhật"``), and a saved model remembers it.

Offline
    A ``base_model`` that is a folder is read from disk only. Anything else is treated as a Hugging
    Face id and looked up in the local cache only, unless ``allow_download=True``; ``HF_HUB_OFFLINE``
    always wins. Loading a saved model never downloads anything.

Model folder
    ``transformer/`` beside ``manifest.json`` holds ``model.safetensors``, ``config.json``, the
    tokenizer files and ``vnguard_transformer.json`` (task, outputs, max_length, word_segment,
    normalize, base model and a training log). Weights are read with safetensors only and
    ``trust_remote_code`` stays off, so loading never runs code from the folder; files the manifest
    does not list are refused.

Serving
    ``predict_proba`` tokenises once, sorts texts by length, pads each batch only to its longest
    text and restores input order, under ``torch.inference_mode``. ``$VNGUARD_TORCH_THREADS`` (or
    ``threads``) sets torch's thread count; ``$VNGUARD_DEVICE`` (``cpu``, default, or ``cuda`` /
    ``auto``) picks the device a saved model is loaded onto. Score with ``--jobs 1`` on a GPU: worker
    processes are forked and cannot share a CUDA context.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifier.errors import DataError, MissingDependencyError, ModelError, VnguardError
from classifier.loaders import MULTICLASS, MULTILABEL, Dataset

SUBFOLDER = "transformer"
CONFIG = "vnguard_transformer.json"
CONFIG_VERSION = 1
INSTALL_HINT = "pip install 'vnguard[transformer]'"
THREADS_ENV = "VNGUARD_TORCH_THREADS"
DEVICE_ENV = "VNGUARD_DEVICE"
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")

logger = logging.getLogger(__name__)


@dataclass
class TransformerOptions:
    """Options of the transformer backend (recorded in the manifest).

    Parameters
    ----------
    base_model : str or None, default=None
        Folder of a pretrained Hugging Face model (config.json, weights, tokenizer), or a hub id
        that is already in the local cache (or downloadable with ``allow_download``).
    epochs : float, default=3.0
        Passes over the training data; fractions are allowed.
    batch_size : int, default=16
        Training batch size.
    lr : float, default=3e-5
        Peak learning rate of AdamW (linear warm-up, then linear decay).
    max_length : int, default=128
        Tokens per text (longer texts are truncated); capped at what the model supports.
    device : {"auto", "cpu", "cuda"}, default="auto"
        ``auto`` takes CUDA when torch sees a GPU.
    word_segment : bool, default=False
        Segment words with underthesea before tokenising (PhoBERT expects it).
    allow_download : bool, default=False
        Let Hugging Face download ``base_model`` if it is neither a folder nor cached.
    seed : int, default=13
        Seeds the classification head, dropout and the batch order.
    normalize : bool, default=True
        Feed :func:`classifier.normalize.normalize` of each text (see the module docstring).
    precision : {"auto", "fp32", "bf16", "fp16"}, default="auto"
        Autocast dtype for training. ``auto``: bf16 on CUDA GPUs that support it, else fp16 on
        CUDA (with a gradient scaler), fp32 on CPU.
    weight_decay : float, default=0.01
    warmup_ratio : float, default=0.1
        Share of the steps spent warming the learning rate up.
    max_grad_norm : float, default=1.0
        Gradient clipping norm.
    max_steps : int or None, default=None
        Stop after this many optimiser steps even if ``epochs`` asks for more.
    eval_steps : int or None, default=None
        Evaluate on dev every this many steps; ``None`` evaluates once per epoch (and at the end).
    patience : int, default=2
        Stop after this many dev evaluations without a better macro-F1; the best weights are kept.
    eval_batch_size : int, default=64
        Batch size for dev evaluation and, saved with the model, for prediction.
    threads : int or None, default=None
        Torch CPU threads; ``None`` uses ``$VNGUARD_TORCH_THREADS`` or torch's default.
    """

    base_model: str | None = None
    epochs: float = 3.0
    batch_size: int = 16
    lr: float = 3e-5
    max_length: int = 128
    device: str = "auto"
    word_segment: bool = False
    allow_download: bool = False
    seed: int = 13
    normalize: bool = True
    precision: str = "auto"
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    max_steps: int | None = None
    eval_steps: int | None = None
    patience: int = 2
    eval_batch_size: int = 64
    threads: int | None = None


# --- optional dependencies ------------------------------------------------------------------------

_FORK_HOOK = False


def require_torch():
    """``(torch, transformers)``, or a :class:`MissingDependencyError` naming the install command."""
    global _FORK_HOOK
    try:
        import torch
        import transformers
    except ImportError as error:
        missing = getattr(error, "name", None) or str(error)
        raise MissingDependencyError(f"the transformer backend needs torch and transformers ({missing} is not "
                                     f"installed): {INSTALL_HINT}") from None
    if not _FORK_HOOK:
        # `vnguard score --jobs N` forks workers; torch's OpenMP pool deadlocks in a forked child
        # unless the child runs single-threaded (N workers still use N cores).
        os.register_at_fork(after_in_child=lambda: torch.set_num_threads(1))
        _FORK_HOOK = True
    return torch, transformers


@contextmanager
def quiet_transformers():
    """Silence transformers' progress bars and load reports (they would flood the CLI's output)."""
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def configure_threads(threads: int | None = None) -> int | None:
    """Apply ``threads`` (or ``$VNGUARD_TORCH_THREADS``) to torch; returns the value used, if any."""
    torch, _ = require_torch()
    if threads is None:
        raw = os.environ.get(THREADS_ENV, "").strip()
        if not raw:
            return None
        if not raw.isdigit() or int(raw) < 1:
            raise VnguardError(f"{THREADS_ENV} must be a positive integer, got {raw!r}")
        threads = int(raw)
    elif threads < 1:
        raise VnguardError(f"threads must be a positive integer, got {threads}")
    torch.set_num_threads(threads)
    return threads


def resolve_device(name: str):
    """``torch.device`` for ``auto``, ``cpu`` or ``cuda``; a clear error when CUDA is not usable."""
    torch, _ = require_torch()
    if name not in DEVICES:
        raise VnguardError(f"device must be one of {', '.join(DEVICES)}, got {name!r}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        build = torch.version.cuda or "a CPU-only build"
        raise MissingDependencyError(f"--device cuda, but torch {torch.__version__} ({build}) sees no CUDA GPU; "
                                     "install a CUDA build of torch on a GPU machine or use --device cpu")
    return torch.device(name)


def autocast_dtype(precision: str, device):
    """The autocast dtype for training on ``device`` (``None``: full fp32)."""
    torch, _ = require_torch()
    if precision not in PRECISIONS:
        raise VnguardError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "fp32" or (precision == "auto" and device.type != "cuda"):
        return None
    if precision == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if precision == "bf16" else torch.float16


# --- text preparation -----------------------------------------------------------------------------

def prepare_texts(texts: Sequence[str], *, normalize: bool = True, word_segment: bool = False) -> list[str]:
    """The text a transformer model sees (see the module docstring)."""
    if normalize:
        from classifier.normalize import normalize_many

        prepared = normalize_many(texts)
    else:
        prepared = [unicodedata.normalize("NFC", text) for text in texts]
    if word_segment:
        try:
            from underthesea import word_tokenize
        except ImportError:
            raise MissingDependencyError("word segmentation needs underthesea: pip install underthesea") from None
        prepared = [word_tokenize(text, format="text") if text else text for text in prepared]
    return prepared


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int, device):
    """``(input_ids, attention_mask)`` tensors padded on the right to the longest sequence."""
    torch, _ = require_torch()
    width = max(len(ids) for ids in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, ids in enumerate(sequences):
        input_ids[row, : len(ids)] = torch.as_tensor(ids, dtype=torch.long)
        attention[row, : len(ids)] = 1
    return input_ids.to(device), attention.to(device)


def model_length_limit(model, tokenizer) -> int | None:
    """The most tokens ``model`` accepts, where known."""
    limits = []
    if 0 < getattr(tokenizer, "model_max_length", 0) < 100_000:
        limits.append(int(tokenizer.model_max_length))
    positions = getattr(model.config, "max_position_embeddings", None)
    if positions:
        # RoBERTa-style models (PhoBERT, XLM-R, ViSoBERT) number positions after the padding index.
        model_type = getattr(model.config, "model_type", "")
        offset = (model.config.pad_token_id or 0) + 1 if "roberta" in model_type or "camembert" in model_type else 0
        limits.append(int(positions) - offset)
    return min(limits) if limits else None


# --- the backend ----------------------------------------------------------------------------------

class TransformerBackend:
    """A fine-tuned sequence-classification transformer with its tokenizer.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A ``*ForSequenceClassification`` model with one logit per output.
    tokenizer : transformers tokenizer
    outputs : list of str
        Class names (multi-class) or label ids (multi-label), in logit order.
    task : {"multiclass", "multilabel"}
    max_length : int, default=128
    word_segment : bool, default=False
    normalize : bool, default=True
    batch_size : int, default=64
        Prediction batch size.
    info : dict or None, default=None
        Extra facts saved with the model (base model, training log).
    """

    name = "transformer"

    def __init__(self, model, tokenizer, *, outputs: Sequence[str], task: str, max_length: int = 128,
                 word_segment: bool = False, normalize: bool = True, batch_size: int = 64,
                 info: dict | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self._outputs = [str(output) for output in outputs]
        self.task = task
        self.max_length = max_length
        self.word_segment = word_segment
        self.normalize = normalize
        self.batch_size = batch_size
        self.info = dict(info or {})

    @property
    def outputs(self) -> list[str]:
        return list(self._outputs)

    @property
    def device(self):
        return next(self.model.parameters()).device

    def to(self, device) -> TransformerBackend:
        """Move the model to ``device`` (a ``torch.device`` or ``"cpu"`` / ``"cuda"`` / ``"auto"``)."""
        self.model.to(resolve_device(device) if isinstance(device, str) else device)
        return self

    def prepare(self, texts: Sequence[str]) -> list[str]:
        return prepare_texts(texts, normalize=self.normalize, word_segment=self.word_segment)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text (prepared, with special tokens, truncated; not padded)."""
        if not texts:
            return []
        encoded = self.tokenizer(self.prepare(texts), truncation=True, max_length=self.max_length)
        return [list(ids) for ids in encoded["input_ids"]]

    def predict_encoded(self, encoded: Sequence[Sequence[int]]) -> np.ndarray:
        """Probabilities for token ids from :meth:`encode`, shape (n, len(outputs))."""
        torch, _ = require_torch()
        result = np.zeros((len(encoded), len(self._outputs)), dtype=np.float64)
        if not encoded:
            return result
        order = np.argsort([len(ids) for ids in encoded], kind="stable")
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        device = self.device
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                for start in range(0, len(order), self.batch_size):
                    rows = order[start : start + self.batch_size]
                    input_ids, attention = pad_batch([encoded[i] for i in rows], pad_id, device)
                    logits = self.model(input_ids=input_ids, attention_mask=attention).logits.float()
                    proba = torch.sigmoid(logits) if self.task == MULTILABEL else torch.softmax(logits, dim=-1)
                    result[rows] = proba.cpu().numpy()
        finally:
            self.model.train(was_training)
        return result

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Sigmoid (multi-label) or softmax (multi-class) probabilities, shape (n, len(outputs))."""
        return self.predict_encoded(self.encode(list(texts)))

    def config(self) -> dict:
        return {"config_version": CONFIG_VERSION, "task": self.task, "outputs": self.outputs,
                "max_length": self.max_length, "word_segment": self.word_segment, "normalize": self.normalize,
                "batch_size": self.batch_size, **self.info}

    def save(self, folder: Path) -> list[str]:
        """Write ``transformer/`` into ``folder``; returns every written file relative to ``folder``."""
        require_torch()
        folder = Path(folder)
        target = folder / SUBFOLDER
        staging = folder / (SUBFOLDER + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        with quiet_transformers():
            self.model.save_pretrained(staging)
            self.tokenizer.save_pretrained(staging)
        (staging / CONFIG).write_text(json.dumps(self.config(), ensure_ascii=False, indent=2) + "\n",
                                      encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
        return sorted(path.relative_to(folder).as_posix() for path in target.rglob("*") if path.is_file())

    @classmethod
    def load(cls, folder: Path, manifest: dict) -> TransformerBackend:
        """Open ``folder/transformer`` offline onto ``$VNGUARD_DEVICE`` (default ``cpu``)."""
        _, transformers = require_torch()
        source = Path(folder) / SUBFOLDER
        listed = {name for name in manifest.get("artifacts", {}) if name.startswith(SUBFOLDER + "/")}
        present = {path.relative_to(folder).as_posix() for path in source.rglob("*") if path.is_file()}
        if present - listed:
            raise ModelError(f"files not listed in the manifest: {', '.join(sorted(present - listed))}; "
                             "refusing to load", path=source)
        try:
            config = json.loads((source / CONFIG).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelError(f"{CONFIG} is missing", path=source) from None
        except json.JSONDecodeError as error:
            raise ModelError(f"not valid JSON: {error.msg}", path=source / CONFIG, line=error.lineno,
                             column=error.colno) from None
        if config.get("config_version", 0) > CONFIG_VERSION:
            raise ModelError("written by a newer vnguard; upgrade vnguard", path=source / CONFIG)
        if config.get("outputs") != list(manifest["labels"]) or config.get("task") != manifest["task"]:
            raise ModelError("labels or task differ between the manifest and the transformer config",
                             path=source / CONFIG)
        try:
            with quiet_transformers():
                tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=True,
                                                                       trust_remote_code=False)
                model = transformers.AutoModelForSequenceClassification.from_pretrained(
                    source, local_files_only=True, use_safetensors=True, trust_remote_code=False)
        except ImportError as error:
            raise MissingDependencyError(f"the model's tokenizer needs a package that is missing: {error}") from None
        except (OSError, ValueError, KeyError) as error:
            raise ModelError(f"cannot load the transformer model: {error}", path=source) from None
        configure_threads()
        model.float().eval()
        model.to(resolve_device(os.environ.get(DEVICE_ENV, "cpu")))
        info = {k: v for k, v in config.items()
                if k not in ("config_version", "task", "outputs", "max_length", "word_segment", "normalize",
                             "batch_size")}
        return cls(model, tokenizer, outputs=config["outputs"], task=config["task"],
                   max_length=int(config["max_length"]), word_segment=bool(config["word_segment"]),
                   normalize=bool(config.get("normalize", True)), batch_size=int(config.get("batch_size", 64)),
                   info=info)


# --- base models ----------------------------------------------------------------------------------

def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def resolve_base_model(base_model: str | None, allow_download: bool = False) -> tuple[str, bool]:
    """``(source, local_files_only)`` for ``from_pretrained``; a clear error for a missing folder."""
    if not base_model:
        raise DataError("the transformer backend needs --base-model: a folder holding a pretrained model "
                        "(config.json, weights, tokenizer files), e.g. PhoBERT downloaded beforehand")
    path = Path(base_model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError("not a Hugging Face model folder (config.json is missing)", path=path)
        return str(path), True
    looks_like_path = (path.exists() or path.is_absolute() or base_model.startswith((".", "~"))
                       or base_model.count("/") > 1 or "\\" in base_model)
    if looks_like_path:
        raise ModelError("base model folder not found" if not path.exists() else "expected a folder, found a file",
                         path=path)
    return base_model, not allow_download or _hub_offline()


def _offline_hint(base_model: str, allow_download: bool) -> str:
    local = base_model.rsplit("/", 1)[-1]
    why = ("HF_HUB_OFFLINE is set, so nothing is downloaded" if allow_download
           else "vnguard downloads nothing without --allow-download")
    return (f"base model {base_model!r} is not a folder here and not in the local Hugging Face cache ({why}). "
            f"On a machine with network run `hf download {base_model} --local-dir {local}`, copy the folder "
            f"here and pass --base-model {local}")


def load_base_model(options: TransformerOptions, outputs: Sequence[str], task: str):
    """``(model, tokenizer)``: the base model with a fresh head of ``len(outputs)`` logits, in fp32."""
    _, transformers = require_torch()
    source, local_only = resolve_base_model(options.base_model, options.allow_download)
    labels = [str(output) for output in outputs]
    try:
        with quiet_transformers():
            tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=local_only,
                                                                   trust_remote_code=False)
            model = transformers.AutoModelForSequenceClassification.from_pretrained(
                source, local_files_only=local_only, trust_remote_code=False, num_labels=len(labels),
                id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)},
                problem_type="multi_label_classification" if task == MULTILABEL else "single_label_classification",
                ignore_mismatched_sizes=True)
    except ImportError as error:
        raise MissingDependencyError(f"the base model's tokenizer needs a package that is missing: {error}") from None
    except OSError as error:
        if local_only and not Path(source).is_dir():
            raise ModelError(_offline_hint(source, options.allow_download)) from None
        raise ModelError(f"cannot load base model {source!r}: {error}") from None
    except (ValueError, KeyError) as error:
        raise ModelError(f"cannot load base model {source!r}: {error}") from None
    return model.float(), tokenizer


def build_random_base_model(folder: str | Path, texts: Sequence[str], *, vocab_size: int = 2000,
                            hidden_size: int = 32, num_layers: int = 2, num_heads: int = 2,
                            intermediate_size: int = 64, max_positions: int = 256, seed: int = 0) -> Path:
    """Write a randomly initialised BERT and a WordPiece tokenizer built from ``texts`` to ``folder``.

    For checking an installation (CPU or GPU) end to end without downloading weights; its
    predictions mean nothing until it is fine-tuned. The WordPiece vocabulary holds every character
    of ``texts`` and of ASCII letters, digits and punctuation (alone and as a ``##`` continuation),
    then the most frequent words, ties broken alphabetically: the ``tokenizers`` trainer breaks ties
    differently from run to run, and a check must be repeatable.
    Returns ``folder``.
    """
    import string
    from collections import Counter

    torch, transformers = require_torch()
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=False, clean_text=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    counts = Counter(word for text in texts
                     for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)))
    characters = sorted({char for word in counts for char in word}
                        | set(string.ascii_lowercase + string.digits + string.punctuation))
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *characters, *(f"##{c}" for c in characters)]
    known = set(vocabulary)
    words = [word for word in sorted(counts, key=lambda w: (-counts[w], w)) if word not in known]
    vocabulary += words[: max(0, vocab_size - len(vocabulary))]
    tokenizer = Tokenizer(models.WordPiece({token: i for i, token in enumerate(vocabulary)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    tokenizer.decoder = decoders.WordPiece()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    wrapped = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                                   model_max_length=max_positions)
    config = transformers.BertConfig(vocab_size=len(vocabulary), hidden_size=hidden_size,
                                     num_hidden_layers=num_layers, num_attention_heads=num_heads,
                                     intermediate_size=intermediate_size, max_position_embeddings=max_positions,
                                     pad_token_id=0)
    torch.manual_seed(seed)
    with quiet_transformers():
        wrapped.save_pretrained(folder)
        transformers.BertModel(config).save_pretrained(folder)
    return folder


# --- training -------------------------------------------------------------------------------------

def training_targets(train: Dataset) -> tuple[list[str], np.ndarray, np.ndarray | None, np.ndarray]:
    """``(outputs, targets, mask, weights)`` for the loss.

    Multi-class: class indices and balanced class weights ``n / (k * count)``. Multi-label: a 0/1
    matrix, the mask of annotated cells, and ``pos_weight = negatives / positives`` per label, over
    the labels that have both positive and negative annotated rows.
    """
    if train.task == MULTICLASS:
        outputs = list(train.labels)
        index = {label: j for j, label in enumerate(outputs)}
        targets = np.asarray([index[target] for target in train.targets], dtype=np.int64)
        counts = np.bincount(targets, minlength=len(outputs)).astype(np.float64)
        weights = len(targets) / (len(outputs) * np.maximum(counts, 1.0))
        return outputs, targets, None, weights
    outputs, y, mask = train.trainable_indicator()
    positives = (y * mask).sum(axis=0).astype(np.float64)
    annotated = mask.sum(axis=0).astype(np.float64)
    weights = (annotated - positives) / positives
    return outputs, y.astype(np.float32), mask, weights


def _check_dev(dev: Dataset | None, outputs: list[str]) -> None:
    if dev is None or dev.task != MULTICLASS:
        return
    unknown = sorted(set(dev.targets) - set(outputs))
    if unknown:
        raise DataError(f"dev data has classes the training data lacks: {', '.join(unknown)}", path=dev.path)


def _batches(n_rows: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Shuffled batches of row indices, epoch after epoch."""
    while True:
        order = rng.permutation(n_rows)
        for start in range(0, n_rows, batch_size):
            yield order[start : start + batch_size]


def _validate(options: TransformerOptions) -> None:
    problems = {
        "epochs must be positive": options.epochs <= 0,
        "batch size must be at least 1": options.batch_size < 1,
        "learning rate must not be negative": options.lr < 0,
        "max length must be at least 8 tokens": options.max_length < 8,
        "patience must be at least 1": options.patience < 1,
        "eval batch size must be at least 1": options.eval_batch_size < 1,
        "max steps must be at least 1": options.max_steps is not None and options.max_steps < 1,
        "eval steps must be at least 1": options.eval_steps is not None and options.eval_steps < 1,
        "warm-up ratio must be in [0, 1)": not 0 <= options.warmup_ratio < 1,
    }
    for message, failed in problems.items():
        if failed:
            raise DataError(f"transformer options: {message}")


def fit_transformer(train: Dataset, dev: Dataset | None = None, options: TransformerOptions | None = None):
    """Fine-tune ``options.base_model`` on ``train``; returns a :class:`~classifier.model.Classifier`.

    Multi-class: cross-entropy with balanced class weights. Multi-label: binary cross-entropy with
    ``pos_weight``, counted only where a row annotates the label. With ``dev``, macro-F1 on dev is
    measured every epoch (or ``eval_steps``) with argmax / 0.5 thresholds (tuning happens afterwards
    in :func:`~classifier.training.train_model`); training stops after ``patience`` evaluations
    without improvement and the best weights are kept. Progress goes to this module's logger (one
    line per evaluation, never message text); the training log lands in the saved config.
    """
    from classifier.evaluation import evaluate
    from classifier.model import Classifier

    options = options or TransformerOptions()
    _validate(options)
    torch, transformers = require_torch()
    outputs, targets, mask, weights = training_targets(train)
    _check_dev(dev, outputs)
    device = resolve_device(options.device)
    amp_dtype = autocast_dtype(options.precision, device)
    threads = configure_threads(options.threads)
    torch.manual_seed(options.seed)
    model, tokenizer = load_base_model(options, outputs, train.task)
    limit = model_length_limit(model, tokenizer)
    backend = TransformerBackend(
        model.to(device), tokenizer, outputs=outputs, task=train.task,
        max_length=min(options.max_length, limit) if limit else options.max_length,
        word_segment=options.word_segment, normalize=options.normalize, batch_size=options.eval_batch_size,
        info={"base_model": options.base_model, "model_type": getattr(model.config, "model_type", None)})
    classifier = Classifier(backend, task=train.task)

    train_ids = backend.encode(train.texts)
    dev_ids = backend.encode(dev.texts) if dev is not None and len(dev) else None
    target_tensor = torch.as_tensor(targets, device=device)
    weight_tensor = torch.as_tensor(weights, dtype=torch.float32, device=device)
    mask_tensor = None if mask is None else torch.as_tensor(mask, dtype=torch.float32, device=device)

    def loss_of(logits, rows):
        index = torch.as_tensor(rows, device=device)
        if mask_tensor is None:
            return torch.nn.functional.cross_entropy(logits, target_tensor[index], weight=weight_tensor)
        cells = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, target_tensor[index], pos_weight=weight_tensor, reduction="none")
        annotated = mask_tensor[index]
        return (cells * annotated).sum() / annotated.sum().clamp(min=1.0)

    steps_per_epoch = math.ceil(len(train_ids) / options.batch_size)
    total_steps = max(1, math.ceil(options.epochs * steps_per_epoch))
    if options.max_steps is not None:
        total_steps = min(total_steps, options.max_steps)
    eval_every = options.eval_steps or steps_per_epoch
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
         "weight_decay": options.weight_decay},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=options.lr)
    scheduler = transformers.get_linear_schedule_with_warmup(optimizer, int(options.warmup_ratio * total_steps),
                                                             total_steps)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 and device.type == "cuda" else None
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    batches = _batches(len(train_ids), options.batch_size, np.random.default_rng(options.seed))

    def synchronize() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    logger.info("fine-tuning %s on %s (%s) · autocast %s · %d steps (%d per epoch)", backend.info["model_type"],
                device, torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                str(amp_dtype).replace("torch.", "") if amp_dtype is not None else "off", total_steps,
                steps_per_epoch)
    history: list[dict] = []
    best_score, best_step, best_state, stale = -math.inf, 0, None, 0
    loss_sum, loss_steps, train_seconds = torch.zeros((), device=device), 0, 0.0
    step_clock = time.perf_counter()
    step = 0
    for step in range(1, total_steps + 1):
        rows = next(batches)
        model.train()
        input_ids, attention = pad_batch([train_ids[i] for i in rows], pad_id, device)
        with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
            logits = model(input_ids=input_ids, attention_mask=attention).logits
        loss = loss_of(logits.float(), rows)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), options.max_grad_norm)
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), options.max_grad_norm)
            optimizer.step()
        scheduler.step()
        loss_sum += loss.detach()
        loss_steps += 1
        if dev_ids is None or (step % eval_every and step != total_steps):
            continue
        synchronize()
        train_seconds += time.perf_counter() - step_clock
        score = evaluate(classifier, dev, proba=backend.predict_encoded(dev_ids)).macro_f1
        history.append({"step": step, "epoch": round(step / steps_per_epoch, 3),
                        "train_loss": round(float(loss_sum) / loss_steps, 5), "dev_macro_f1": round(score, 5)})
        logger.info("step %d/%d · loss %.4f · dev macro-F1 %.4f", step, total_steps, history[-1]["train_loss"],
                    score)
        loss_sum, loss_steps = torch.zeros((), device=device), 0
        if score > best_score + 1e-9:
            best_score, best_step, stale = score, step, 0
            best_state = {key: value.detach().to("cpu", copy=True) for key, value in model.state_dict().items()}
        else:
            stale += 1
            if stale >= options.patience:
                break
        step_clock = time.perf_counter()
    else:
        synchronize()
        train_seconds += time.perf_counter() - step_clock
    if best_state is not None and best_step != step:
        model.load_state_dict(best_state)
        logger.info("stopped at step %d; kept the weights of step %d (dev macro-F1 %.4f)", step, best_step, best_score)
    model.eval()
    backend.info["training_log"] = {
        "device": str(device), "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "autocast": str(amp_dtype).replace("torch.", "") if amp_dtype is not None else None,
        "torch": torch.__version__, "transformers": transformers.__version__, "threads": threads,
        "steps": step, "planned_steps": total_steps, "epochs": round(step / steps_per_epoch, 3),
        "stopped_early": step < total_steps, "best_step": best_step or step,
        "best_dev_macro_f1": round(best_score, 5) if best_state is not None else None,
        "train_seconds": round(train_seconds, 3), "steps_per_second": round(step / train_seconds, 2)
        if train_seconds > 0 else None, "history": history,
    }
    return classifier
