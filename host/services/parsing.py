"""Turn an uploaded file into plain text: text and Markdown as-is, HTML without markup, PDF and Word (.docx).

Pure functions, CPU-bound: the ingestion worker calls ``extract_text`` in a thread. A file that cannot be
read raises ``ParseError`` whose message names the file and the reason; the worker fails the job with it.
"""

from __future__ import annotations

import io
import logging
from html.parser import HTMLParser
from pathlib import PurePosixPath

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = frozenset({
    ".txt", ".md", ".markdown", ".rst", ".csv", ".tsv", ".json", ".jsonl", ".yaml", ".yml", ".toml", ".xml",
    ".log", ".py", ".js", ".ts", ".java", ".go", ".rs", ".c", ".h", ".cpp", ".sh", ".sql", ".ini", ".cfg",
})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
SUPPORTED = sorted(TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".docx"})

_MIME_KIND = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/html": "html",
    "application/xhtml+xml": "html",
}


class ParseError(Exception):
    """The file could not be turned into text; the message is shown to the user as the job's error."""


def file_kind(file_name: str, content_type: str | None) -> str | None:
    """``text`` | ``html`` | ``pdf`` | ``docx`` from the extension (then the MIME type); None if unsupported."""
    suffix = PurePosixPath(file_name.lower()).suffix
    if suffix in TEXT_SUFFIXES:
        return "text"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in (".pdf", ".docx"):
        return suffix[1:]
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime in _MIME_KIND:
        return _MIME_KIND[mime]
    if mime.startswith("text/"):
        return "text"
    return None


def mime_type(file_name: str, content_type: str | None) -> str:
    kind = file_kind(file_name, content_type)
    suffix = PurePosixPath(file_name.lower()).suffix
    if kind == "pdf":
        return "application/pdf"
    if kind == "docx":
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if kind == "html":
        return "text/html"
    if suffix in (".md", ".markdown"):
        return "text/markdown"
    if content_type and content_type != "application/octet-stream":
        return content_type.split(";")[0].strip()
    return "text/plain" if kind == "text" else "application/octet-stream"


def extract_text(data: bytes, file_name: str, content_type: str | None = None) -> str:
    kind = file_kind(file_name, content_type)
    if kind is None:
        raise ParseError(f"Unsupported file type for {file_name!r} ({content_type or 'unknown MIME type'}): "
                         f"upload one of {', '.join(SUPPORTED)}")
    if kind == "pdf":
        text = _pdf(data, file_name)
    elif kind == "docx":
        text = _docx(data, file_name)
    else:
        decoded = _decode(data, file_name)
        text = _html(decoded) if kind == "html" else decoded
    text = text.replace("\r\n", "\n").replace("\x00", "")
    if not text.strip():
        raise ParseError(f"{file_name!r} contains no extractable text (an empty file, or a scanned PDF without "
                         f"a text layer)")
    return text


def _decode(data: bytes, file_name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ParseError(f"{file_name!r} has a UTF-16 byte-order mark but is not valid UTF-16") from None
    if b"\x00" in data[:8192]:
        raise ParseError(f"{file_name!r} looks like a binary file, not text: check the file or its extension")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"{file_name!r} is not valid UTF-8 text (byte {exc.start}): save it as UTF-8") from None


class _HtmlText(HTMLParser):
    _SKIP = frozenset({"script", "style", "noscript", "template", "head"})
    _BLOCK = frozenset({"p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header",
                        "footer", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "title", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self.title: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _html(markup: str) -> str:
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _pdf(data: bytes, file_name: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ParseError(f"{file_name!r} is an encrypted PDF: upload a copy without a password")
        pages = [page.extract_text() or "" for page in reader.pages]
    except ParseError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ParseError(f"{file_name!r} is not a readable PDF: {exc}") from None
    return "\n\n".join(p.strip() for p in pages if p.strip())


def _docx(data: bytes, file_name: str) -> str:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ParseError(f"{file_name!r} is not a readable Word (.docx) document: {exc}") from None
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)
