"""Chat readers: JSON, plain-text transcripts, Facebook Messenger and Telegram Desktop exports, CSV.

Every reader returns a :class:`Chat` (messages in chronological order); every problem is a
:class:`~classifier.errors.DataError` naming the file and, where known, the line and column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

from classifier.errors import DataError
from classifier.fileio import bom_encoding


class ChatFormat(str, Enum):
    auto = "auto"
    json = "json"
    text = "text"
    messenger = "messenger"
    telegram = "telegram"
    csv = "csv"


@dataclass(frozen=True)
class ChatMessage:
    """One message: who sent it, its text and (optionally) when, as ISO 8601."""

    sender: str
    text: str
    time: str | None = None
    line: int | None = None

    def to_dict(self) -> dict:
        data = {"from": self.sender, "text": self.text}
        if self.time is not None:
            data["time"] = self.time
        return data


@dataclass
class Chat:
    """A parsed chat: messages oldest first, plus where they came from.

    ``skipped`` counts source messages without text (photos, stickers, calls, service messages);
    they are left out, so message indices count text messages only.
    """

    messages: list[ChatMessage]
    format: str = "json"
    path: str | None = None
    title: str | None = None
    skipped: int = 0
    participants: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.participants:
            self.participants = list(dict.fromkeys(m.sender for m in self.messages))

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self):
        return iter(self.messages)


# --- generic messages ------------------------------------------------------------------------------

_SENDER_KEYS = ("from", "sender", "sender_name", "author", "name", "user")
_TEXT_KEYS = ("text", "content", "message", "body")
_TIME_KEYS = ("time", "timestamp", "date")


def _first_key(item: Mapping, keys: Sequence[str]) -> str | None:
    return next((key for key in keys if key in item), None)


def _iso_time(value, where: str, path: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise DataError(f"{where}: 'time' must be an ISO 8601 string, found {type(value).__name__}", path=path)
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise DataError(f"{where}: 'time' {value[:40]!r} is not ISO 8601 (e.g. 2024-05-01T20:15:00)",
                        path=path) from None
    return value


def coerce_message(item, index: int, path: str | None = None) -> ChatMessage:
    """A ``{"from", "text", "time"?}`` mapping (or a :class:`ChatMessage`) -> :class:`ChatMessage`."""
    if isinstance(item, ChatMessage):
        return item
    where = f"message {index}"
    if not isinstance(item, Mapping):
        raise DataError(f"{where}: expected an object with 'from' and 'text', found {type(item).__name__}",
                        path=path)
    sender_key, text_key = _first_key(item, _SENDER_KEYS), _first_key(item, _TEXT_KEYS)
    if sender_key is None or text_key is None:
        missing = "from" if sender_key is None else "text"
        raise DataError(f"{where}: lacks {missing!r}; fields found: {', '.join(map(str, item)) or '(none)'}",
                        path=path)
    sender, text = item[sender_key], item[text_key]
    if not isinstance(text, str):
        raise DataError(f"{where}: {text_key!r} must be a string, found {type(text).__name__}", path=path)
    if sender is None or isinstance(sender, (dict, list)):
        raise DataError(f"{where}: {sender_key!r} must be a name, found {type(sender).__name__}", path=path)
    time_key = _first_key(item, _TIME_KEYS)
    time = _iso_time(item.get(time_key), where, path) if time_key else None
    return ChatMessage(str(sender).strip(), text, time)


def as_chat(messages, path: str | None = None) -> Chat:
    """A :class:`Chat`, a ``{"messages": [...]}`` mapping or a list of message mappings -> :class:`Chat`."""
    if isinstance(messages, Chat):
        return messages
    if isinstance(messages, Mapping):
        if "messages" not in messages:
            raise DataError("expected a list of messages or an object with a 'messages' list", path=path)
        messages = messages["messages"]
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Iterable):
        raise DataError(f"expected a list of messages, found {type(messages).__name__}", path=path)
    return Chat([coerce_message(item, i, path) for i, item in enumerate(messages)], path=path)


# --- JSON ------------------------------------------------------------------------------------------

def _read_text(path: Path) -> str:
    from classifier.loaders import _check_file

    _check_file(path)
    raw = path.read_bytes()
    try:
        return raw.decode(bom_encoding(raw[:4]) or "utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(f"not valid UTF-8 near byte {error.start}; convert the file to UTF-8", path=path) from None


def _load_json(text: str, path: str | Path):
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError(f"invalid JSON: {error.msg}", path=path, line=error.lineno, column=error.colno) from None


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as latin-1 ("Ã\\x84\\x91i" -> "đi"), as in Facebook exports; other text is unchanged."""
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _is_messenger(data) -> bool:
    messages = data.get("messages") if isinstance(data, dict) else None
    return isinstance(messages, list) and any(
        isinstance(m, dict) and ("sender_name" in m or "senderName" in m) for m in messages)


def _is_telegram(data) -> bool:
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("chats"), dict):
        return True
    messages = data.get("messages")
    return isinstance(messages, list) and any(
        isinstance(m, dict) and m.get("type") in ("message", "service") and ("from" in m or "actor" in m)
        for m in messages)


def parse_messenger(data, path: str | Path | None = None) -> Chat:
    """A Facebook Messenger export (``message_1.json``): newest first, text as latin-1 mojibake.

    Both the classic export (``sender_name``, ``content``, ``timestamp_ms``) and the newer one
    (``senderName``, ``text``, ``timestamp``) are read. Messages without text (photos, stickers,
    unsent messages) are skipped and counted in ``Chat.skipped``.
    """
    path = None if path is None else str(path)
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise DataError("not a Messenger export: expected an object with a 'messages' list", path=path)
    rows, skipped = [], 0
    for position, item in enumerate(data["messages"]):
        if not isinstance(item, dict):
            raise DataError(f"messages[{position}]: expected an object, found {type(item).__name__}", path=path)
        sender = item.get("sender_name", item.get("senderName"))
        text = item.get("content", item.get("text"))
        if sender is None:
            raise DataError(f"messages[{position}]: lacks 'sender_name'", path=path)
        if item.get("is_unsent") or item.get("isUnsent") or not isinstance(text, str) or not text.strip():
            skipped += 1
            continue
        stamp = item.get("timestamp_ms", item.get("timestamp"))
        if stamp is not None and not isinstance(stamp, (int, float)):
            raise DataError(f"messages[{position}]: 'timestamp_ms' must be a number", path=path)
        rows.append((stamp, position, repair_mojibake(str(sender)), repair_mojibake(text)))
    # The file lists the newest message first; order by time, ties by reversed file order.
    rows.sort(key=lambda row: (row[0] if row[0] is not None else 0, -row[1]))
    if all(row[0] is None for row in rows):
        rows.sort(key=lambda row: -row[1])
    messages = [ChatMessage(sender.strip(), text, _ms_to_iso(stamp)) for stamp, _, sender, text in rows]
    title = data.get("title", data.get("threadName"))
    participants = [repair_mojibake(str(p.get("name", "")) if isinstance(p, dict) else str(p))
                    for p in data.get("participants", []) if isinstance(p, (dict, str))]
    return Chat(messages, "messenger", path, repair_mojibake(title) if isinstance(title, str) else None, skipped,
                participants=[p for p in participants if p] or [])


def _ms_to_iso(stamp) -> str | None:
    if stamp is None:
        return None
    return datetime.fromtimestamp(stamp / 1000, tz=UTC).replace(microsecond=0).isoformat()


def telegram_text(value) -> str:
    """Telegram's ``text``: a string, or a list of strings and entity objects with a ``text`` field."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part if isinstance(part, str) else str(part.get("text", "")) if isinstance(part, dict)
                       else "" for part in value)
    return ""


def parse_telegram(data, path: str | Path | None = None) -> Chat:
    """A Telegram Desktop export (``result.json``) of one chat; service messages and media are skipped."""
    path = None if path is None else str(path)
    if isinstance(data, dict) and isinstance(data.get("chats"), dict):
        chats = data["chats"].get("list", [])
        if len(chats) != 1:
            raise DataError(f"this Telegram export holds {len(chats)} chats; export a single chat "
                            "(chat menu → Export chat history → JSON)", path=path)
        data = chats[0]
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise DataError("not a Telegram export: expected an object with a 'messages' list", path=path)
    messages, skipped = [], 0
    for position, item in enumerate(data["messages"]):
        if not isinstance(item, dict):
            raise DataError(f"messages[{position}]: expected an object, found {type(item).__name__}", path=path)
        if item.get("type", "message") != "message":
            skipped += 1
            continue
        if "text" in item and not isinstance(item["text"], (str, list)):
            raise DataError(f"messages[{position}]: 'text' must be a string or a list", path=path)
        text = telegram_text(item.get("text", ""))
        if not text.strip():
            skipped += 1
            continue
        sender = item.get("from") or item.get("from_id") or "(deleted account)"
        time = item.get("date") if isinstance(item.get("date"), str) else None
        messages.append(ChatMessage(str(sender).strip(), text, time))
    title = data.get("name") if isinstance(data.get("name"), str) else None
    return Chat(messages, "telegram", path, title, skipped)


def parse_json(data, path: str | Path | None = None) -> Chat:
    """Any supported JSON chat: Messenger and Telegram exports are recognised, else generic messages."""
    if _is_messenger(data):
        return parse_messenger(data, path)
    if _is_telegram(data):
        return parse_telegram(data, path)
    chat = as_chat(data, None if path is None else str(path))
    chat.format = "json"
    return chat


# --- plain-text transcripts ------------------------------------------------------------------------

# "[12:30] Name: text", "[12:30, 01/02/2024] Name: text", "12:30 Name: text", "01/02/2024, 12:30 - Name: text".
_STAMP = (r"(?:\[(?P<bracket>[^\]]{1,40})\]"
          r"|\((?P<paren>\d{1,2}:\d{2}(?::\d{2})?)\)"
          r"|(?P<bare>(?:\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4},?\s+)?\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp][Mm])?)"
          r"(?:\s*[-–]\s*|\s+))")
_HEADER = re.compile(rf"^\s*(?:{_STAMP}\s*)?(?P<name>[^:\n]{{1,48}}?)\s*:(?:\s+|$)(?P<text>.*)$")
_DATE_LINE = re.compile(r"^\s*[-=–—\s]*\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}[-=–—\s]*$")
_NAME_OK = re.compile(r"^[^\W\d_]|^[\w@.]")
_MAX_NAME_WORDS = 6


def _header(line: str):
    match = _HEADER.match(line)
    if match is None:
        return None
    name = match.group("name").strip()
    if (not name or len(name.split()) > _MAX_NAME_WORDS or "http" in name.lower() or "/" in name
            or not _NAME_OK.match(name)):
        return None
    stamp = match.group("bracket") or match.group("paren") or match.group("bare")
    return name, match.group("text"), stamp


def parse_transcript(text: str, path: str | Path | None = None) -> Chat:
    """Lines ``Name: message`` or ``[12:30] Name: message``; other lines continue the previous message.

    When most message lines carry a time stamp, only stamped lines start a message, so a line
    such as ``Lưu ý: ...`` inside a message stays part of it.
    """
    path = None if path is None else str(path)
    lines = text.splitlines()
    headers = [_header(line) for line in lines]
    found = [h for h in headers if h is not None]
    if not found:
        raise DataError("no message lines found; expected lines like 'Name: message' or '[12:30] Name: message'",
                        path=path, line=1)
    stamped_only = sum(1 for h in found if h[2]) > len(found) / 2
    messages: list[list] = []  # [sender, text lines, stamp, line number]
    for number, (line, header) in enumerate(zip(lines, headers, strict=True), start=1):
        if header is not None and (header[2] or not stamped_only):
            messages.append([header[0], [header[1]], header[2], number])
        elif not line.strip() or _DATE_LINE.match(line):
            continue
        elif messages:
            messages[-1][1].append(line)
        else:
            raise DataError("expected 'Name: message' (text before the first message)", path=path, line=number,
                            column=1)
    chat_messages = []
    for sender, text_lines, stamp, number in messages:
        body = "\n".join(text_lines).strip()
        if body:
            chat_messages.append(ChatMessage(sender, body, stamp, number))
    skipped = len(messages) - len(chat_messages)
    return Chat(chat_messages, "text", path, None, skipped)


# --- CSV -------------------------------------------------------------------------------------------

_CSV_TEXT = ("text", "message", "content", "noi_dung", "nội dung", "nội_dung", "tin_nhan", "tin nhắn")
_CSV_FROM = ("from", "sender", "sender_name", "author", "name", "nguoi_gui", "người gửi", "người_gửi")
_CSV_TIME = ("time", "timestamp", "date", "thoi_gian", "thời gian", "thời_gian")


def parse_csv(path: str | Path, *, text_col: str | None = None, from_col: str | None = None,
              time_col: str | None = None) -> Chat:
    """A CSV file with a header: one message per row (columns guessed unless given)."""
    import csv

    from classifier.loaders import _open_text, read_csv_rows

    path = Path(path)
    _read_text(path)  # existence and encoding checks with a clear error
    with _open_text(path) as handle:
        header = next(csv.reader(handle), [])
    lowered = {column.strip().lower(): column for column in header}

    def pick(given, candidates, what):
        if given is not None:
            return given
        found = next((lowered[c] for c in candidates if c in lowered), None)
        if found is None and what != "time":
            raise DataError(f"no {what} column; name it with --{what}-col (columns found: "
                            f"{', '.join(header) or '(none)'})", path=path, line=1)
        return found

    columns = [pick(from_col, _CSV_FROM, "from"), pick(text_col, _CSV_TEXT, "text")]
    time_column = pick(time_col, _CSV_TIME, "time")
    if time_column is not None:
        columns.append(time_column)
    messages, skipped = [], 0
    for line, values in read_csv_rows(path, columns):
        sender, text = values[0].strip(), values[1]
        if not text.strip():
            skipped += 1
            continue
        if not sender:
            raise DataError("empty sender", path=path, line=line, column=header.index(columns[0]) + 1)
        stamp = (values[2].strip() or None) if time_column is not None else None
        messages.append(ChatMessage(sender, text, stamp, line))
    return Chat(messages, "csv", str(path), None, skipped)


# --- entry point -----------------------------------------------------------------------------------

def _guess_format(path: Path, text: str) -> ChatFormat:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return ChatFormat.csv
    start = text.lstrip()
    if suffix == ".json" or start[:1] == "{":
        return ChatFormat.json
    if start[:1] == "[":
        # "[12:30] Name: ..." is a transcript; anything else starting with "[" is a JSON list.
        first_line = start.split("\n", 1)[0]
        header = _header(first_line)
        return ChatFormat.text if header is not None and header[2] else ChatFormat.json
    return ChatFormat.text


def parse_chat_text(text: str, format: ChatFormat | str = ChatFormat.auto, name: str = "<stdin>") -> Chat:
    """Parse a chat already read into a string (JSON, Messenger, Telegram or a transcript; not CSV)."""
    fmt = ChatFormat(format)
    if fmt is ChatFormat.csv:
        raise DataError("CSV chats must be read from a file", path=name)
    if fmt is ChatFormat.auto:
        fmt = _guess_format(Path(name), text)
    if fmt is ChatFormat.text:
        chat = parse_transcript(text, name)
    else:
        data = _load_json(text, name)
        parser = {ChatFormat.json: parse_json, ChatFormat.messenger: parse_messenger,
                  ChatFormat.telegram: parse_telegram}[fmt]
        chat = parser(data, name)
    if not chat.messages:
        raise DataError("the chat has no text messages", path=name)
    return chat


def read_chat(path: str | Path, format: ChatFormat | str = ChatFormat.auto, *, text_col: str | None = None,
              from_col: str | None = None, time_col: str | None = None) -> Chat:
    """Read a chat file in the given format (``auto`` guesses from the extension and content)."""
    path = Path(path)
    fmt = ChatFormat(format)
    if fmt is ChatFormat.csv or (fmt is ChatFormat.auto and path.suffix.lower() == ".csv"):
        chat = parse_csv(path, text_col=text_col, from_col=from_col, time_col=time_col)
        if not chat.messages:
            raise DataError("the chat has no text messages", path=path)
        return chat
    return parse_chat_text(_read_text(path), fmt, str(path))
