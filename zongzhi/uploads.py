"""Uploaded files typed by parsing them, not by their first bytes.

An image must decode completely with Pillow, as the format its signature claims, with nothing
after its end (a PNG followed by a PDF is a polyglot, refused). A PDF must be one from its first
byte and hold no active content: no /JavaScript or /JS, /Launch, /EmbeddedFile(s), /RichMedia or
/XFA, including names written with #xx escapes and inside compressed object streams. Each check
returns the problem in Chinese (naming the file) or None.
"""

import io
import re
import warnings
import zlib
from typing import Any

from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

PNG, JPEG, PDF = "image/png", "image/jpeg", "application/pdf"
SIGNATURES = {JPEG: b"\xff\xd8\xff", PNG: b"\x89PNG\r\n\x1a\n", PDF: b"%PDF-"}
_PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG"}
# Names whose presence makes a PDF run something, open something or carry another file.
ACTIVE_PDF_NAMES = frozenset({"JavaScript", "JS", "Launch", "EmbeddedFile", "EmbeddedFiles", "RichMedia", "XFA"})
_NAME = re.compile(rb"/([^\s/\[\]<>(){}%]+)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM = re.compile(rb"<<(.{0,2000}?)>>\s*stream\r?\n", re.DOTALL)
MAX_INFLATED = 64 * 1024 * 1024  # a compressed stream is inflated this far, no further (zip bombs)
_FOREIGN = (b"%PDF-", b"<script", b"<html")  # long enough not to occur by chance in pixels


def sniff(head: bytes) -> str | None:
    """The type the first bytes claim (to be confirmed by `problem`)."""
    return next((kind for kind, signature in SIGNATURES.items() if head.startswith(signature)), None)


def read_all(upload: Any) -> bytes:
    upload.seek(0)
    data = b"".join(upload.chunks()) if hasattr(upload, "chunks") else upload.read()
    upload.seek(0)
    return bytes(data)


def problem(data: bytes, name: str, allowed: tuple[str, ...], field: str) -> tuple[str | None, str | None]:
    """(content type, None) for a file that parses as one of `allowed`; else (None, the problem naming
    the form field and the file), or (None, None) when its first bytes claim no allowed type at all."""
    kind = sniff(data[:16])
    if kind is None or kind not in allowed:
        return None, None  # the caller says which types it takes
    found = _pdf_problem(data) if kind == PDF else _image_problem(data, kind)
    if found:
        return None, _("%(f)s：文件“%(n)s”%(p)s") % {"f": field, "n": name, "p": found}
    return kind, None


def _image_problem(data: bytes, kind: str) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != _PILLOW_FORMATS[kind]:
                    return _("不是完整的图片。")
                image.load()  # decodes every pixel: a truncated or damaged image raises here
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError, Warning):
        return _("无法作为图片打开（文件不完整或已损坏）。")
    if kind == PNG:
        end = data.rfind(b"IEND")
        tail = data[end + 8 :] if end >= 0 else b"?"  # the IEND chunk's type and CRC, then nothing
    else:
        tail = data[data.rfind(b"\xff\xd9") + 2 :]
    if tail.strip(b"\0") or any(marker in data[16:] for marker in _FOREIGN):
        return _("在图片之外还夹带了其他内容，不予接收。")
    return None


def _names(chunk: bytes) -> set[str]:
    out = set()
    for raw in _NAME.findall(chunk):
        name = _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
        out.add(name.decode("latin-1"))
    return out


def _inflated_streams(data: bytes) -> list[bytes]:
    streams = []
    for found in _STREAM.finditer(data):
        if b"FlateDecode" not in found.group(1) and b"Fl" not in _names(found.group(1)):
            continue
        body = data[found.end() : data.find(b"endstream", found.end())]
        inflater = zlib.decompressobj()
        try:
            streams.append(inflater.decompress(body, MAX_INFLATED))
        except zlib.error:
            continue
    return streams


def _pdf_problem(data: bytes) -> str | None:
    if b"%%EOF" not in data[-2048:]:
        return _("不是完整的 PDF 文件。")
    names = _names(data)
    for stream in _inflated_streams(data):  # object streams hide dictionaries compressed
        names |= _names(stream)
    active = sorted(names & ACTIVE_PDF_NAMES)
    if active:
        return _("含有脚本、启动动作或嵌入文件（%(what)s），不予接收。") % {"what": "、".join("/" + a for a in active)}
    return None
