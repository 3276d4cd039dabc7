"""``vnguard chat``: grooming risk across a whole chat, with the tactics behind it and what to do."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from classifier.cli.common import Lang, console, fail, handle_errors, load_model
from classifier.conversation.parsers import ChatFormat


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def chat(
        file: Annotated[str, typer.Argument(help="Chat file: JSON, Messenger or Telegram export, transcript, CSV; "
                                                 "'-' reads stdin.")],
        json_output: Annotated[bool, typer.Option("--json", help="Print the analysis as JSON.")] = False,
        chat_format: Annotated[ChatFormat, typer.Option("--format", help="Input format.")] = ChatFormat.auto,
        child: Annotated[str | None, typer.Option("--child", help="Display name of the child in the chat.")] = None,
        lang: Annotated[Lang, typer.Option("--lang", help="Language of the report.")] = Lang.vi,
        text_col: Annotated[str | None, typer.Option("--text-col", help="CSV: column with the message text.")] = None,
        from_col: Annotated[str | None, typer.Option("--from-col", help="CSV: column with the sender.")] = None,
        time_col: Annotated[str | None, typer.Option("--time-col", help="CSV: column with the time.")] = None,
        model: Annotated[str | None, typer.Option("--model", "-m", help="Bundled model name or model folder.")] = None,
    ) -> None:
        """Analyse a whole chat: grooming risk, tactics with quoted evidence, early alert, what to do."""
        from classifier.conversation import analyze_conversation
        from classifier.conversation.parsers import parse_chat_text, read_chat
        from classifier.conversation.report import render_report

        if file == "-":
            if sys.stdin.isatty():
                fail("give a chat file, e.g. vnguard chat chat.json (or pipe one in with '-')")
            parsed = parse_chat_text(sys.stdin.read(), chat_format)
        else:
            parsed = read_chat(file, chat_format, text_col=text_col, from_col=from_col, time_col=time_col)
        analysis = analyze_conversation(parsed, model=load_model(model), child=child)
        if json_output:
            typer.echo(json.dumps(analysis.to_dict(), ensure_ascii=False, indent=2))
        else:
            console.print(render_report(analysis, lang.value, participants=len(parsed.participants)),
                          markup=False, highlight=False, soft_wrap=True)
