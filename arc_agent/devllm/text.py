"""Deterministic "model" output shared by both providers: tokens, replies, tool arguments, embeddings.

A token is a word or one punctuation character with the whitespace before it, so streamed pieces
join back to exactly the full text and every count (usage, truncation) is reproducible.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from typing import Any, Iterable, List, Optional, Sequence

_TOKEN = re.compile(r"\s*(?:\w+|[^\w\s])")
ECHO_TOKENS = 32
"""At most this many prompt tokens are echoed, so replies stay short (under ~60 tokens)."""


def tokens(text: str) -> List[str]:
    """Pieces that join back to exactly ``text`` (trailing whitespace rides on the last piece)."""
    pieces = _TOKEN.findall(text)
    rest = len(text) - sum(map(len, pieces))
    if rest:
        if pieces:
            pieces[-1] += text[-rest:]
        else:
            pieces = [text]
    return pieces


def count_tokens(texts: Iterable[str]) -> int:
    return sum(len(_TOKEN.findall(t)) for t in texts)


def mentions_json(texts: Iterable[str]) -> bool:
    return any("json" in t.lower() for t in texts)


@dataclasses.dataclass
class Generation:
    """One reply: its streamable pieces and why it stopped (``stop`` | ``length`` | ``stop_sequence``)."""

    pieces: List[str]
    finish: str
    stop_sequence: Optional[str] = None

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def output_tokens(self) -> int:
        return len(self.pieces)


def reply_text(model: str, prompt: str, *, wants_json: bool, malformed: bool) -> str:
    """The untruncated reply: an echo of the prompt, as prose or as (possibly broken) JSON."""
    echo = "".join(tokens(prompt)[:ECHO_TOKENS]).strip() or "(empty prompt)"
    if not wants_json:
        return f"This is a deterministic reply from the arc dev-llm server (model {model}) to: {echo}"
    valid = json.dumps({"model": model, "reply": "deterministic reply from arc dev-llm", "echo": echo})
    # Malformed the way real models break JSON: a trailing comma where the closing brace belongs.
    return valid[:-1] + "," if malformed else valid


def generate(
    text: str,
    *,
    max_tokens: Optional[int],
    truncate_below: int,
    stop: Sequence[str] = (),
) -> Generation:
    """Apply stop sequences, then the token limit; a limit below ``truncate_below`` always truncates."""
    finish, matched = "stop", None
    cut = min(((text.find(s), s) for s in stop if s and s in text), default=None)
    if cut is not None:
        text, matched, finish = text[: cut[0]], cut[1], "stop_sequence"
    pieces = tokens(text)
    if max_tokens is not None and (max_tokens < truncate_below or len(pieces) > max_tokens):
        return Generation(pieces[:max_tokens], "length")
    return Generation(pieces, finish, matched)


def tool_arguments(schema: Any) -> dict:
    """Placeholder arguments satisfying a JSON schema's properties (string "arc", number 1, ...)."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return {}
    placeholder = {"string": "arc", "number": 1, "integer": 1, "boolean": True, "array": [], "object": {}}
    out = {}
    for name, spec in props.items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        enum = spec.get("enum") if isinstance(spec, dict) else None
        out[name] = enum[0] if isinstance(enum, list) and enum else placeholder.get(kind, "arc")
    return out


def embedding(text: str, dimensions: int) -> List[float]:
    """A unit vector by feature hashing of lower-cased words: texts sharing words are close in cosine."""
    vec = [0.0] * dimensions
    words = re.findall(r"\w+", text.lower()) or [text]
    for word in words:
        h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        vec[h % dimensions] += 1.0 if (h >> 63) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


def choose_tool(
    tools: Sequence[tuple],
    choice: Optional[str],
    prompt: str,
    *,
    after_tool_result: bool,
) -> Optional[tuple]:
    """Which tool the "model" calls, as ``(name, arguments)``, or None for a text reply.

    ``tools`` are ``(name, json_schema)`` pairs; ``choice`` is ``"auto"``/None, ``"none"``,
    ``"required"`` or a tool name. With auto, a tool is called when the prompt names it; a reply to a
    tool result is always text, so an agent loop ends.
    """
    if not tools or choice == "none" or after_tool_result:
        return None
    by_name = dict(tools)
    if choice not in (None, "auto", "required"):
        return (choice, tool_arguments(by_name.get(choice))) if choice in by_name else None
    named = [name for name, _ in tools if name and name in prompt]
    if named:
        return named[0], tool_arguments(by_name[named[0]])
    if choice == "required":
        name, schema = tools[0]
        return name, tool_arguments(schema)
    return None
