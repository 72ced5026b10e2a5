"""Small real files for upload tests: images that decode, a PDF without active content, and crafted
bad ones (a PNG/PDF polyglot, a PDF with JavaScript, a truncated image)."""

import io
import zlib

from PIL import Image

PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)


def image(fmt: str = "PNG", size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


PNG = image("PNG")
JPEG = image("JPEG")


def pdf_with(dictionary: bytes, *, compressed: bool = False) -> bytes:
    """A PDF whose catalog holds `dictionary` entries, plainly or inside a compressed object stream."""
    if not compressed:
        return b"%PDF-1.4\n1 0 obj << /Type /Catalog " + dictionary + b" >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    body = zlib.compress(b"<< /Type /Catalog " + dictionary + b" >>")
    return (
        b"%PDF-1.5\n1 0 obj << /Type /ObjStm /N 1 /First 0 /Filter /FlateDecode /Length "
        + str(len(body)).encode()
        + b" >>\nstream\n"
        + body
        + b"\nendstream\nendobj\n%%EOF\n"
    )


JAVASCRIPT_PDF = pdf_with(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")
POLYGLOT = PNG + PDF  # opens as an image and as a PDF
TRUNCATED_PNG = image("PNG", (64, 64))[:-40]
