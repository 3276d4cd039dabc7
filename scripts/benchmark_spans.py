"""Span F1 of the offensive/hate span tagger with the ViHOS / SemEval-2021 toxic-spans metric.

    python scripts/benchmark_spans.py [--shared ../shared/datasets] [--data FILE ...] [--model default]
                                      [--tagger-from MODEL] [--tune] [--save-tagger DIR] [--json report.json]

Per comment, F1 between the predicted and the gold character offsets (both empty counts 1, one empty
counts 0), averaged over comments, with a 95 % bootstrap interval. Reported on ViHOS dev and on every
``--data`` file (ViHOS format: ``content,index_spans``).

The tagger is fitted on ViHOS ``train.csv`` only, or taken from ``--tagger-from`` (a model folder with
``spans.npz``). ``--tune`` first fits on 90 % of train and picks the token and comment thresholds on the
other 10 %; dev is never used to choose anything. Variants:

- ``tagger``: every comment is tagged;
- ``tagger, own gate``: no span where the tagger's comment-level probability is under its
  ``sentence_threshold`` (0.5 when that is 0);
- ``tagger, gated by model``: no span where ``--model`` flags neither offensive nor hate;
- ``model.explain``: what users see: the offensive/hate spans of ``model.explain`` on flagged comments.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from classifier.fileio import write_json_atomic
from classifier.loaders import load_vihos
from classifier.recipes import SEED, _split, shared_datasets
from classifier.spans import SPAN_LABELS, SpanTagger, join_tokens, mean_span_f1, span_f1, span_offsets

THRESHOLDS = np.round(np.arange(0.3, 0.71, 0.05), 2)
SENTENCE_THRESHOLDS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6)


def summary(gold: list[list[int]], predicted: list[list[int]], *, rounds: int = 1000) -> dict:
    """Mean span F1 with a bootstrap interval, and the means over toxic and over clean comments."""
    scores = np.asarray([span_f1(g, p) for g, p in zip(gold, predicted, strict=True)])
    toxic = np.asarray([bool(g) for g in gold])
    rng = np.random.default_rng(SEED)
    means = scores[rng.integers(0, len(scores), size=(rounds, len(scores)))].mean(axis=1)
    return {"span_f1": round(float(scores.mean()), 4),
            "interval_95": [round(float(np.quantile(means, 0.025)), 4), round(float(np.quantile(means, 0.975)), 4)],
            "span_f1_toxic_comments": round(float(scores[toxic].mean()), 4) if toxic.any() else None,
            "clean_comments_without_spans": round(float(scores[~toxic].mean()), 4) if (~toxic).any() else None,
            "comments": len(scores)}


def tune(train_texts, train_spans) -> dict:
    """Token and comment thresholds chosen on 10 % of train, the tagger fitted on the other 90 %."""
    from classifier.loaders import Dataset

    data = Dataset(list(train_texts), [["offensive"] if s else [] for s in train_spans], "multilabel",
                   ["offensive"], spans=list(train_spans))
    fit_part, tune_part = _split(data, (0.1,), [bool(s) for s in data.spans])
    tagger = SpanTagger().fit(fit_part.texts, fit_part.spans)
    tagged = tagger.tag(tune_part.texts)
    best = (-1.0, 0.5, 0.0)
    for threshold in THRESHOLDS:
        for gate in SENTENCE_THRESHOLDS:
            predicted = [[] if t.comment < gate else span_offsets(join_tokens(text, t.tokens, t.proba >= threshold,
                                                                              t.proba))
                         for text, t in zip(tune_part.texts, tagged, strict=True)]
            score = mean_span_f1(tune_part.spans, predicted)
            if score > best[0] + 1e-9:
                best = (score, float(threshold), float(gate))
    print(f"tuned on {len(tune_part)} held-out train comments: span F1 {best[0]:.4f} at threshold {best[1]}, "
          f"sentence_threshold {best[2]}")
    return {"threshold": best[1], "sentence_threshold": best[2], "tuning_span_f1": round(best[0], 4)}


def flagged_toxic(model, texts: list[str]) -> list[bool]:
    """Whether ``model`` flags offensive or hate on each text."""
    decisions = model.predict(texts)
    if model.is_multilabel:
        return [bool(set(labels) & set(SPAN_LABELS)) for labels in decisions]
    return [label in SPAN_LABELS for label in decisions]


def explained_offsets(model, texts: list[str], flags: list[bool]) -> list[list[int]]:
    result = []
    for text, flagged in zip(texts, flags, strict=True):
        if not flagged:
            result.append([])
            continue
        spans = model.explain(text)
        result.append(sorted({i for s in spans if s.label in SPAN_LABELS for i in range(s.start, s.end)}))
    return result


def evaluate_file(name: str, path: Path, tagger: SpanTagger, model) -> dict:
    data = load_vihos(path)
    if not len(data):
        from classifier.errors import DataError

        raise DataError("no comments to evaluate", path=path)
    started = time.perf_counter()
    tagged = tagger.tag(data.texts)
    seconds = time.perf_counter() - started
    ungated = [span_offsets(join_tokens(text, t.tokens, t.proba >= tagger.threshold, t.proba))
               for text, t in zip(data.texts, tagged, strict=True)]
    own_gate = tagger.sentence_threshold or 0.5
    gated = [offsets if t.comment >= own_gate else [] for offsets, t in zip(ungated, tagged, strict=True)]
    report = {"file": str(path), "tagger_seconds": round(seconds, 2),
              "tagger": summary(data.spans, ungated),
              f"tagger, own gate {own_gate}": summary(data.spans, gated)}
    if model is not None:
        flags = flagged_toxic(model, data.texts)
        by_model = [offsets if flag else [] for offsets, flag in zip(ungated, flags, strict=True)]
        report["tagger, gated by model"] = summary(data.spans, by_model)
        report["model.explain"] = summary(data.spans, explained_offsets(model, data.texts, flags))
    print(f"\n{name} ({len(data):,} comments, {sum(map(bool, data.spans)):,} with spans)")
    for variant, values in report.items():
        if isinstance(values, dict):
            low, high = values["interval_95"]
            toxic, clean = values["span_f1_toxic_comments"], values["clean_comments_without_spans"]
            print(f"  {variant:<28} span F1 {values['span_f1']:.4f} [{low:.4f}, {high:.4f}]   "
                  f"toxic comments {'n/a' if toxic is None else f'{toxic:.4f}'}   "
                  f"clean comments {'n/a' if clean is None else f'{clean:.4f}'}")
    return report


def main(argv: list[str] | None = None) -> int:
    from classifier.errors import VnguardError

    try:
        return run(argv)
    except VnguardError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=None, help="folder with vihos/")
    parser.add_argument("--data", type=Path, nargs="*", default=[], help="more ViHOS-format files to evaluate")
    parser.add_argument("--model", default="default", help="model whose flags gate the spans; 'none' to skip")
    parser.add_argument("--tagger-from", default=None, help="model folder whose spans.npz to evaluate")
    parser.add_argument("--tune", action="store_true", help="pick thresholds on 10 %% of train first")
    parser.add_argument("--save-tagger", type=Path, default=None, help="write the fitted spans.npz here")
    parser.add_argument("--json", type=Path, default=None, help="write the report as JSON")
    args = parser.parse_args(argv)
    root = shared_datasets(args.shared, require="vihos")
    if root is None:
        print("../shared/datasets/vihos not found; pass --shared PATH", file=sys.stderr)
        return 2
    import classifier

    model = None if args.model == "none" else classifier.load(args.model)
    report: dict = {}
    if args.tagger_from:
        tagger = classifier.load(args.tagger_from).span_tagger
        if tagger is None:
            print(f"{args.tagger_from} has no span tagger", file=sys.stderr)
            return 2
        report["tagger"] = {"from": args.tagger_from}
    else:
        train = load_vihos(root / "vihos" / "train.csv")
        params = tune(train.texts, train.spans) if args.tune else {}
        started = time.perf_counter()
        tagger = SpanTagger(**{k: v for k, v in params.items() if k != "tuning_span_f1"})
        tagger.fit(train.texts, train.spans)
        seconds = round(time.perf_counter() - started, 1)
        print(f"fitted on ViHOS train ({len(train):,} comments) in {seconds} s")
        report["tagger"] = {"fitted_on": "vihos/train.csv", "rows": len(train), "fit_seconds": seconds,
                            "params": tagger.get_params(), "tuning": params}
        if args.save_tagger:
            args.save_tagger.mkdir(parents=True, exist_ok=True)
            tagger.save(args.save_tagger)
    report["vihos-dev"] = evaluate_file("ViHOS dev", root / "vihos" / "dev.csv", tagger, model)
    for path in args.data:
        report[path.name] = evaluate_file(path.name, path, tagger, model)
    if args.json:
        write_json_atomic(args.json, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
