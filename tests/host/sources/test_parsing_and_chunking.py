"""Parsing each file type to text, and splitting text into passages (pure functions, no server)."""

from __future__ import annotations

import pytest

from host.services.chunking import chunk_text
from host.services.parsing import ParseError, extract_text, file_kind
from tests.host.sources import samples

FACT = "Ada Lovelace wrote the first published algorithm."


@pytest.mark.parametrize("kind", ["txt", "md", "html", "pdf", "docx"])
def test_each_supported_type_yields_its_text(kind):
    assert FACT in extract_text(samples.make(kind, FACT), f"f.{kind}")


def test_html_drops_markup_scripts_and_styles():
    out = extract_text(samples.html("Plain &amp; simple <b>bold</b> words."), "page.html")
    assert "Plain & simple bold words." in out
    assert "<" not in out and "scriptonlyword" not in out and "color" not in out


def test_a_multi_page_pdf_keeps_every_page():
    out = extract_text(samples.pdf("First page text.", "Second page text.", "Third (page) text."), "doc.pdf")
    assert [line for line in out.split("\n") if line] == ["First page text.", "Second page text.",
                                                          "Third (page) text."]


@pytest.mark.parametrize(("name", "content_type", "kind"), [
    ("a.TXT", None, "text"), ("a.markdown", None, "text"), ("a.htm", None, "html"), ("a.pdf", None, "pdf"),
    ("a.docx", None, "docx"), ("noext", "application/pdf", "pdf"), ("noext", "text/csv", "text"),
    ("a.png", "image/png", None), ("a.exe", None, None),
])
def test_file_kind_comes_from_the_extension_then_the_mime_type(name, content_type, kind):
    assert file_kind(name, content_type) == kind


def test_utf16_text_with_a_byte_order_mark_is_decoded():
    assert extract_text("naïve café".encode("utf-16"), "u.txt") == "naïve café"


def test_binary_bytes_named_txt_are_refused():
    with pytest.raises(ParseError, match="looks like a binary file"):
        extract_text(b"\x00\x01\x02binary", "x.txt")


def test_short_text_is_one_chunk():
    assert chunk_text("One short paragraph.", 300) == ["One short paragraph."]


def test_chunks_respect_the_size_and_cover_every_word():
    words = [f"w{i}" for i in range(5000)]
    text = "\n\n".join(" ".join(words[i:i + 50]) + "." for i in range(0, 5000, 50))
    chunks = chunk_text(text, 100)
    assert all(len(c) <= 400 for c in chunks)
    seen = set(" ".join(chunks).replace(".", " ").split())
    assert seen == set(words)


def test_a_giant_unbroken_token_is_cut_hard():
    chunks = chunk_text("x" * 10_000, 100)
    assert all(len(c) <= 400 for c in chunks) and "".join(chunks).replace(" ", "") == "x" * 10_000


def test_consecutive_chunks_overlap_a_little():
    text = " ".join(f"Sentence number {i} ends here." for i in range(200))
    chunks = chunk_text(text, 50)
    assert len(chunks) > 5
    for a, b in zip(chunks, chunks[1:], strict=False):
        shared = _overlap(a, b)  # the next chunk starts with the tail of the previous one
        assert 10 <= shared <= len(a) // 2, (shared, a, b)
        assert b.startswith(a[-shared:]) and b[shared] == " "  # cut at a word boundary


def test_without_overlap_consecutive_chunks_share_nothing():
    text = " ".join(f"Sentence number {i} ends here." for i in range(200))
    chunks = chunk_text(text, 50, overlap_ratio=0.0)
    assert all(_overlap(a, b) == 0 for a, b in zip(chunks, chunks[1:], strict=False))


def _overlap(a: str, b: str) -> int:
    """The length of the longest tail of ``a`` that ``b`` starts with."""
    return max((n for n in range(1, min(len(a), len(b)) + 1) if b.startswith(a[-n:])), default=0)
