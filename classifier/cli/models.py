"""``vnguard models``: list bundled models (or describe given model folders)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from classifier.cli.common import console, handle_errors


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def models(
        paths: Annotated[list[str] | None, typer.Argument(help="Model folders to describe (default: bundled).")] = None,
        json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """List bundled models, or describe the model folders given, from their manifests."""
        from classifier.model import bundled_models, models_dir, read_manifest, resolve_model_path

        names = paths or bundled_models()
        rows = []
        for name in names:
            folder = resolve_model_path(name)
            manifest = read_manifest(folder)
            rows.append({
                "name": name, "path": str(folder), "backend": manifest["backend"], "task": manifest["task"],
                "labels": manifest["labels"], "created": manifest.get("created"),
                "metrics": manifest.get("metrics", {}),
            })
        if json_output:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            console.print(f"no bundled models in {models_dir()}")
            return
        table = Table(show_edge=False)
        for column in ("name", "backend", "task", "labels", "created"):
            table.add_column(column)
        for row in rows:
            table.add_row(row["name"], row["backend"], row["task"], ", ".join(row["labels"]), row["created"] or "")
        console.print(table)
