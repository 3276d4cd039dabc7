"""``vnguard check``: a readable verdict on one message, for parents and moderators."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.text import Text

from classifier.cli.common import Lang, console, fail, handle_errors, load_model


def render_verdict(text: str, verdict, lang: str) -> None:
    """Print the message with evidence highlighted, the labels, the risk and what to do."""
    from classifier.guidance import advice, headline
    from classifier.taxonomy import display_name

    styled = Text(text)
    for span in verdict.spans:
        styled.stylize("bold red underline", span.start, span.end)
    console.print(Text("Tin nhắn: " if lang == "vi" else "Message: ", style="dim") + styled)
    colour = {"none": "green", "low": "yellow", "medium": "dark_orange", "high": "bold red"}[verdict.risk]
    risk_name = {"vi": {"none": "không", "low": "thấp", "medium": "trung bình", "high": "cao"},
                 "en": {"none": "none", "low": "low", "medium": "medium", "high": "high"}}[lang][verdict.risk]
    console.print(f"[{colour}]{headline(verdict.risk, lang)}[/] "
                  f"({'mức rủi ro' if lang == 'vi' else 'risk'}: {risk_name})")
    for label in verdict.flagged:
        probability = verdict.probabilities.get(label, 0.0)
        evidence = [s.text for s in verdict.spans if s.label == label][:4]
        words = ""
        if evidence:
            words = f" — {'từ ngữ' if lang == 'vi' else 'words'}: " + ", ".join(f"“{w}”" for w in evidence)
        console.print(f"  • {display_name(label, lang)} ({probability:.0%}){words}", soft_wrap=True)
    for line in advice(verdict.flagged, lang):
        console.print(f"  → {line}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def check(
        text: Annotated[str | None, typer.Argument(help="The message to check; '-' or nothing reads stdin.")] = None,
        model: Annotated[str | None, typer.Option("--model", "-m", help="Bundled model name or model folder.")] = None,
        json_output: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
        lang: Annotated[Lang, typer.Option("--lang", help="Language of the explanation.")] = Lang.vi,
    ) -> None:
        """Check one message: labels, risk level, the words behind them and what to do next."""
        if text is None or text == "-":
            if sys.stdin.isatty():
                fail("give a message to check, e.g. vnguard check \"tin nhắn\"")
            text = sys.stdin.read()
        classifier = load_model(model)
        verdict = classifier.check(text)
        if json_output:
            typer.echo(json.dumps(verdict.to_dict(), ensure_ascii=False, indent=2))
        else:
            render_verdict(text, verdict, lang.value)
