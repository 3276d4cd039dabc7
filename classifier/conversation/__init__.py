"""Whole-chat analysis: grooming risk with a tactic timeline and an early alert, plus chat readers.

>>> from classifier.conversation import analyze_conversation, read_chat
>>> analysis = analyze_conversation(read_chat("chat.json"))
>>> analysis.to_dict()["grooming"]        # risk, flagged, onset, participant, tactics
"""
from __future__ import annotations

import importlib
from typing import Any

# Submodules load on first use, so that `vnguard check` does not pay for the conversation analyser.
_LAZY = {
    "THRESHOLD": "classifier.conversation.analysis",
    "ConversationAnalysis": "classifier.conversation.analysis",
    "ConversationMonitor": "classifier.conversation.analysis",
    "MonitorState": "classifier.conversation.analysis",
    "TacticHit": "classifier.conversation.analysis",
    "analyze_conversation": "classifier.conversation.analysis",
    "Chat": "classifier.conversation.parsers",
    "ChatFormat": "classifier.conversation.parsers",
    "ChatMessage": "classifier.conversation.parsers",
    "as_chat": "classifier.conversation.parsers",
    "parse_chat_text": "classifier.conversation.parsers",
    "parse_csv": "classifier.conversation.parsers",
    "parse_json": "classifier.conversation.parsers",
    "parse_messenger": "classifier.conversation.parsers",
    "parse_telegram": "classifier.conversation.parsers",
    "parse_transcript": "classifier.conversation.parsers",
    "read_chat": "classifier.conversation.parsers",
    "repair_mojibake": "classifier.conversation.parsers",
    "render_report": "classifier.conversation.report",
    "TACTICS": "classifier.conversation.tactics",
    "find_cues": "classifier.conversation.tactics",
}

__all__ = [
    "TACTICS",
    "THRESHOLD",
    "Chat",
    "ChatFormat",
    "ChatMessage",
    "ConversationAnalysis",
    "ConversationMonitor",
    "MonitorState",
    "TacticHit",
    "analyze_conversation",
    "as_chat",
    "find_cues",
    "parse_chat_text",
    "parse_csv",
    "parse_json",
    "parse_messenger",
    "parse_telegram",
    "parse_transcript",
    "read_chat",
    "render_report",
    "repair_mojibake",
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'classifier.conversation' has no attribute {name!r}")
    return getattr(importlib.import_module(module_name), name)
