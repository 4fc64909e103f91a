"""Real files of each supported type, generated in memory: text, Markdown, HTML, PDF (hand-written), Word."""

from __future__ import annotations

import io


def txt(fact: str) -> bytes:
    return f"Notes from the field.\n\n{fact}\n\nNothing else of note happened that day.\n".encode()


def md(fact: str) -> bytes:
    return f"# Field notes\n\nSome *introductory* words.\n\n## Findings\n\n- {fact}\n- A second bullet.\n".encode()


def html(fact: str) -> bytes:
    return (f"<!doctype html><html><head><title>Notes</title><style>p {{color: red}}</style>"
            f"<script>var hidden = 'scriptonlyword';</script></head><body><h1>Field notes</h1>"
            f"<p>{fact}</p><ul><li>first item</li><li>second item</li></ul></body></html>").encode()


def pdf(*pages: str) -> bytes:
    """A minimal valid PDF (one Helvetica text line per page), with a correct cross-reference table."""
    objects: list[bytes] = []
    n_pages = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    font_id = 3 + 2 * n_pages
    for i, line in enumerate(pages):
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode()
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
                       f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode())
        objects.append(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def docx(fact: str) -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    document.add_heading("Field notes", level=1)
    document.add_paragraph("Some introductory words.")
    document.add_paragraph(fact)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "cell one"
    table.rows[0].cells[1].text = "cell two"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


MIME = {
    "txt": "text/plain",
    "md": "text/markdown",
    "html": "text/html",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def make(kind: str, fact: str) -> bytes:
    if kind == "pdf":
        return pdf("Cover page of the field notes.", fact)
    return {"txt": txt, "md": md, "html": html, "docx": docx}[kind](fact)
