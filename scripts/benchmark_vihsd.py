"""ViHSD benchmark: train on the official train split, tune on dev, report dev (and a given test file).

    python scripts/benchmark_vihsd.py [--shared ../shared/datasets] [--test FILE] [--runs 2] [--json OUT]

Reports accuracy, macro-F1 and per-class F1 with bootstrap 95 % intervals, training time and prediction
throughput (messages/s, one process), with the default options of `vnguard train --format vihsd`.
`--runs 2` trains twice and checks that the metrics are identical (determinism).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from classifier.evaluation import evaluate
from classifier.fileio import write_json_atomic
from classifier.loaders import load_vihsd
from classifier.recipes import shared_datasets
from classifier.training import SklearnOptions, train_model

PUBLISHED = [("TextCNN", 86.69, 61.11), ("mBERT", 86.89, 62.70), ("PhoBERT-large", 87.32, 65.14),
             ("ViSoBERT", 88.51, 68.77), ("ViHateT5", 88.76, 68.67)]


def throughput(model, texts: list[str], repeats: int = 3) -> float:
    model.predict_proba(texts[:100])
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        model.predict_proba(texts)
        best = max(best, len(texts) / (time.perf_counter() - started))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=None)
    parser.add_argument("--test", type=Path, default=None, help="an extra labelled ViHSD-format file to report")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    root = shared_datasets(args.shared, require="vihsd")
    if root is None:
        print("../shared/datasets not found; pass --shared PATH", file=sys.stderr)
        return 2
    train = load_vihsd(root / "vihsd" / "train.csv")
    dev = load_vihsd(root / "vihsd" / "dev.csv")
    results = []
    for run in range(args.runs):
        started = time.perf_counter()
        model = train_model(train, dev, options=SklearnOptions())
        seconds = time.perf_counter() - started
        report = evaluate(model, dev, bootstrap=args.bootstrap).to_dict()
        results.append({"train_seconds": round(seconds, 1), "dev": report})
        print(f"run {run + 1}: dev macro-F1 {report['macro_f1']:.4f} {report['intervals_95']['macro_f1']} "
              f"accuracy {report['accuracy']:.4f} {report['intervals_95']['accuracy']} · train {seconds:.0f} s")
        for label, values in report["per_label"].items():
            print(f"    {label:<10} P {values['precision']:.3f} R {values['recall']:.3f} F1 {values['f1']:.3f}")
    rate = throughput(model, dev.texts)
    print(f"prediction throughput: {rate:,.0f} messages/s (one process)")
    output = {"runs": results, "messages_per_second": round(rate), "offsets": model.offsets,
              "published_test": [{"model": m, "accuracy": a, "macro_f1": f} for m, a, f in PUBLISHED]}
    if args.runs > 1:
        same = all(r["dev"]["macro_f1"] == results[0]["dev"]["macro_f1"] for r in results)
        output["deterministic"] = same
        print(f"identical metrics across runs: {same}")
    if args.test:
        test = load_vihsd(args.test)
        output["test"] = evaluate(model, test, bootstrap=args.bootstrap).to_dict()
        print(f"test macro-F1 {output['test']['macro_f1']:.4f} accuracy {output['test']['accuracy']:.4f}")
    print("published (official test, accuracy / macro-F1): "
          + "; ".join(f"{m} {a:.2f}/{f:.2f}" for m, a, f in PUBLISHED))
    if args.json:
        write_json_atomic(args.json, output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
