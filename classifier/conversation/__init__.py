"""Whole-chat analysis: grooming risk with a tactic timeline and an early alert, plus chat readers.

>>> from classifier.conversation import analyze_conversation, read_chat
>>> analysis = analyze_conversation(read_chat("chat.json"))
>>> analysis.to_dict()["grooming"]        # risk, flagged, onset, participant, tactics
"""

from classifier.conversation.analysis import (
    THRESHOLD,
    ConversationAnalysis,
    ConversationMonitor,
    MonitorState,
    TacticHit,
    analyze_conversation,
)
from classifier.conversation.parsers import (
    Chat,
    ChatFormat,
    ChatMessage,
    as_chat,
    parse_chat_text,
    parse_csv,
    parse_json,
    parse_messenger,
    parse_telegram,
    parse_transcript,
    read_chat,
    repair_mojibake,
)
from classifier.conversation.report import render_report
from classifier.conversation.tactics import TACTICS, find_cues

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
