"""Check transformer fine-tuning on a GPU with mixed precision, offline and end to end.

    python scripts/gpu_check.py                                   # CUDA, small random BERT, 300 steps
    python scripts/gpu_check.py --device cpu --size tiny --steps 20   # dry run on a laptop

Builds a randomly initialised BERT and a WordPiece tokenizer from the project's seed corpus
(``datasets/seed``), fine-tunes it with the transformer backend through ``train_model`` (what
``vnguard train --backend transformer --device cuda`` runs), then prints torch/CUDA versions, the
device, whether autocast was active and in which dtype, steps per second and dev macro-F1 along
the way. The model folder is reloaded with ``classifier.load`` on the same device (probabilities
must be identical) and on the CPU (they must agree within 1e-3). Nothing is downloaded.
Takes about a minute on one GPU; the exit status is 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = {
    "tiny": {"hidden_size": 32, "num_layers": 2, "num_heads": 2, "intermediate_size": 64, "vocab_size": 2000},
    "small": {"hidden_size": 256, "num_layers": 4, "num_heads": 4, "intermediate_size": 1024, "vocab_size": 8000},
}
SAME_DEVICE_TOLERANCE = 1e-6
CPU_TOLERANCE = 1e-3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cuda", "cpu", "auto"], default="cuda")
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--steps", type=int, default=300, help="Optimiser steps.")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"], default="auto")
    parser.add_argument("--output", type=Path, help="Keep the model folder here (default: a temporary folder).")
    args = parser.parse_args(argv)

    from classifier.errors import VnguardError

    try:
        return run(args)
    except VnguardError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def run(args: argparse.Namespace) -> int:
    import classifier
    from classifier.backends.transformer_backend import (
        TransformerOptions,
        build_random_base_model,
        require_torch,
        resolve_device,
    )
    from classifier.corpus import load_seed_splits
    from classifier.evaluation import evaluate
    from classifier.training import train_model

    torch, transformers = require_torch()
    cuda = torch.cuda.is_available()
    print(f"torch {torch.__version__} · CUDA build {torch.version.cuda} · transformers {transformers.__version__}")
    print(f"CUDA available: {cuda}" + (f" · {torch.cuda.get_device_name(0)} · bf16 supported: "
                                       f"{torch.cuda.is_bf16_supported()}" if cuda else ""))
    resolve_device(args.device)

    splits = load_seed_splits()
    train, dev, heldout = (splits[part][0] for part in ("train", "dev", "heldout"))
    print(f"seed corpus: train {len(train)} · dev {len(dev)} · held-out {len(heldout)} rows")
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.output or Path(scratch) / "model"
        started = time.perf_counter()
        base = build_random_base_model(Path(scratch) / "base", train.texts, **SIZES[args.size])
        print(f"random BERT ({args.size}) built in {time.perf_counter() - started:.1f}s")
        options = TransformerOptions(base_model=str(base), device=args.device, epochs=1000.0, max_steps=args.steps,
                                     batch_size=args.batch_size, lr=args.lr, precision=args.precision,
                                     eval_steps=max(1, args.steps // 4), patience=1000)
        model = train_model(train, dev, backend="transformer", options=options, output=folder)
        log = model.backend.info["training_log"]
        for point in log["history"]:
            print(f"  step {point['step']:>5} · train loss {point['train_loss']:.4f} · "
                  f"dev macro-F1 {point['dev_macro_f1']:.4f}")
        print(f"device {log['device']} ({log['device_name']}) · autocast {log['autocast'] or 'off (fp32)'} · "
              f"{log['steps']} steps in {log['train_seconds']:.1f}s = {log['steps_per_second']} steps/s")
        proba = model.predict_proba(heldout.texts)
        report = evaluate(model, heldout)
        print(f"held-out macro-F1 {report.macro_f1:.4f} (a random-init BERT on a small corpus: only a smoke test)")

        reloaded = classifier.load(folder)
        reloaded.backend.to(args.device)
        same_device = reloaded.predict_proba(heldout.texts)
        reloaded.backend.to("cpu")
        on_cpu = reloaded.predict_proba(heldout.texts)
        same_diff = float(np.abs(same_device - proba).max())
        cpu_diff = float(np.abs(on_cpu - proba).max())
        print(f"reload on {log['device']}: max |Δp| = {same_diff:.3g} · reload on cpu: max |Δp| = {cpu_diff:.3g}")

    losses = [point["train_loss"] for point in log["history"]]
    checks = {
        f"reload on the same device gives the same probabilities (within {SAME_DEVICE_TOLERANCE})":
            same_diff <= SAME_DEVICE_TOLERANCE,
        f"reload on the CPU agrees within {CPU_TOLERANCE}": cpu_diff <= CPU_TOLERANCE,
        "training loss went down": len(losses) >= 2 and losses[-1] < losses[0],
    }
    if log["device"].startswith("cuda") and args.precision != "fp32":
        checks["mixed precision (autocast) was active on CUDA"] = log["autocast"] in ("bfloat16", "float16")
    for name, ok in checks.items():
        print(f"[{'ok' if ok else 'FAILED'}] {name}")
    summary = {"device": log["device"], "device_name": log["device_name"], "autocast": log["autocast"],
               "steps": log["steps"], "steps_per_second": log["steps_per_second"],
               "heldout_macro_f1": round(report.macro_f1, 4), "reload_same_device_max_diff": same_diff,
               "reload_cpu_max_diff": cpu_diff, "ok": all(checks.values())}
    print(json.dumps(summary))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
