"""Split text into passages of about ``chunk_size`` tokens, on paragraph, then sentence, then word boundaries.

Tokens are estimated at 4 characters each (OpenAI's rule of thumb), which keeps splitting fast and free of
tokenizer downloads; Letta's ``embedding_chunk_size`` (default 300) keeps its meaning. Consecutive chunks
overlap by a sentence-sized tail so that a fact cut at a boundary is still found whole in one of them.
"""

from __future__ import annotations

import re

CHARS_PER_TOKEN = 4
_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n")


def chunk_text(text: str, chunk_size: int = 300, overlap_ratio: float = 0.1) -> list[str]:
    limit = max(64, int(chunk_size) * CHARS_PER_TOKEN)
    overlap = int(limit * overlap_ratio)
    pieces: list[str] = []
    for paragraph in _PARAGRAPH.split(text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        for sentence in _SENTENCE.split(paragraph):
            sentence = sentence.strip()
            if sentence:
                pieces.extend(_hard_split(sentence, limit))
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        joined = f"{current}\n\n{piece}" if current else piece
        if len(joined) <= limit:
            current = joined
            continue
        chunks.append(current)
        tail = _tail(current, overlap)
        current = f"{tail} {piece}" if tail and len(tail) + 1 + len(piece) <= limit else piece
    if current:
        chunks.append(current)
    return chunks


def _hard_split(sentence: str, limit: int) -> list[str]:
    if len(sentence) <= limit:
        return [sentence]
    out: list[str] = []
    current = ""
    for word in sentence.split():
        while len(word) > limit:  # a run with no spaces (a URL, base64...)
            if current:
                out.append(current)
                current = ""
            out.append(word[:limit])
            word = word[limit:]
        if current and len(current) + 1 + len(word) > limit:
            out.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        out.append(current)
    return out


def _tail(chunk: str, size: int) -> str:
    if size <= 0 or len(chunk) <= size:
        return ""
    tail = chunk[-size:]
    cut = tail.find(" ")
    return tail[cut + 1:] if cut >= 0 else ""
