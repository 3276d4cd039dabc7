"""``vnguard check``: a readable verdict on one message, for parents and moderators."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.text import Text

from classifier.cli.common import Lang, console, fail, handle_errors, load_model

_WORDS = {
    "vi": {"message": "Tin nhắn: ", "risk": "Mức rủi ro", "found": "Phát hiện", "words": "từ ngữ",
           "todo": "Nên làm gì", "call": "Khi nào cần gọi", "levels": {"none": "không", "low": "thấp",
                                                                      "medium": "trung bình", "high": "cao"}},
    "en": {"message": "Message: ", "risk": "Risk level", "found": "Found", "words": "words",
           "todo": "What to do", "call": "When to call", "levels": {"none": "none", "low": "low",
                                                                  "medium": "medium", "high": "high"}},
}
_RISK_STYLE = {"none": "green", "low": "yellow", "medium": "dark_orange", "high": "bold red"}


def highlighted(text: str, spans) -> Text:
    """``text`` with every evidence span underlined in bold red."""
    styled = Text(text)
    for span in spans:
        styled.stylize("bold red underline", span.start, span.end)
    return styled


def render_verdict(text: str, verdict, lang: str) -> None:
    """Print the message with evidence highlighted, the labels, the risk and what to do."""
    from classifier.guidance import guidance
    from classifier.taxonomy import LABELS, display_name

    words = _WORDS[lang]
    advice = guidance(verdict.flagged, verdict.risk, lang)
    console.print(Text(words["message"], style="dim") + highlighted(text, verdict.spans))
    console.print(f"[{_RISK_STYLE[verdict.risk]}]{words['risk']}: {words['levels'][verdict.risk]}[/] — "
                  f"{advice['headline']}", soft_wrap=True)
    if not verdict.flagged:
        console.print(advice["note"], style="dim", soft_wrap=True, markup=False)
        return
    console.print(f"\n[bold]{words['found']}[/]")
    for label in verdict.flagged:
        line = Text(f"  • {display_name(label, lang)} ({verdict.probabilities.get(label, 0.0):.0%})", style="bold")
        if label in LABELS:
            line.append(f": {LABELS[label].definition(lang)}", style="")
        evidence = list(dict.fromkeys(s.text for s in verdict.spans if s.label == label))[:4]
        if evidence:
            line.append(f" — {words['words']}: " + ", ".join(f"“{w}”" for w in evidence), style="")
        console.print(line, soft_wrap=True)
    if advice["advice"]:
        console.print(f"\n[bold]{words['todo']}[/]")
        for line in advice["advice"]:
            console.print(Text(f"  → {line}"), soft_wrap=True)
    if advice["contacts"]:
        console.print(f"\n[bold]{words['call']}[/]")
        for line in advice["contacts"]:
            console.print(Text(f"  ☎ {line}"), soft_wrap=True)


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
            from classifier.guidance import guidance
            from classifier.taxonomy import display_name

            data = verdict.to_dict()
            data["names"] = {label: display_name(label, lang.value) for label in verdict.flagged}
            data["guidance"] = guidance(verdict.flagged, verdict.risk, lang.value)
            typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            render_verdict(text, verdict, lang.value)
