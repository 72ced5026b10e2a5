"""Documents in traditional Mongolian: vertical columns, top to bottom, columns from left to right.

fpdf2 lays text out horizontally, so each column is drawn as a horizontal run turned 90° clockwise
(how Mongolian script is set: its glyphs are horizontal letters turned clockwise). Mongolian words
are shaped by HarfBuzz (fpdf2's text shaping through `uharfbuzz`: initial, medial and final forms,
ligatures, variation selectors) in Noto Sans Mongolian. Within a column, Chinese characters stand
upright, one em each; Latin letters, digits and brackets turn with the column, as a browser sets
`writing-mode: vertical-lr`.

The blocks of a `Document` are set as running columns: a field grid becomes "label᠄ value"
paragraphs, each table row a paragraph; the signatures are columns with a line to sign on, and the
issuer's seal over its name and the date. As in the horizontal layout, the last two columns of the
block before the signatures go with them to the next page if they do not fit: never a seal alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from zongzhi.documents.pdf import (
    _BLOCK_GAP,
    _GREY_TEXT,
    _LEFT,
    _MARGIN_BOTTOM,
    _MARGIN_TOP,
    _MONGOLIAN,
    _NO_END,
    _NO_START,
    _PAGE_H,
    _PDF,
    _PT,
    _SANS,
    _SEAL_RADIUS,
    _WIDTH,
    RENDERERS,
    Document,
    Field,
    Fields,
    Paragraphs,
    Signatures,
    Table,
    _clean,
    _Renderer,
    _Style,
)

__all__ = ["VerticalRenderer"]

_TOP = _MARGIN_TOP
_LENGTH = _PAGE_H - _MARGIN_TOP - _MARGIN_BOTTOM  # of a column, mm
_RIGHT = _LEFT + _WIDTH

# `line_h` is the column pitch: Mongolian letters reach far to both sides of their stem.
_MN_TITLE = _Style(20, False, 13.0)
_MN_ISSUER = _Style(14, False, 9.5)
_MN_NUMBER = _Style(11, False, 7.5)
_MN_HEADING = _Style(13, False, 8.8)
_MN_BODY = _Style(12, False, 8.2)
_MN_SEAL = _Style(10.5, False, 7.0)

_MN_COLON = "᠄"
_MN_COMMA = "᠂"
_NO_START_MN = _NO_START | frozenset("᠂᠃᠄᠅")
# Full-width brackets turn with the column (as their vertical forms do); other CJK stands upright.
_TURNED = frozenset("（）《》〈〉【】〔〕「」『』［］｛｝—…～")


def _kind(ch: str) -> str:
    """'mn': Mongolian, shaped; 'rot': Latin, digits, brackets, turned with the column; 'up': upright CJK."""
    o = ord(ch)
    if 0x1800 <= o <= 0x18AF or o in (0x202F, 0x200C, 0x200D):
        return "mn"
    if ch in _TURNED:
        return "rot"
    if o >= 0x2E80:
        return "up"
    return "rot"


@dataclass(slots=True)
class _Token:
    """A unit a column may not break inside: a word, a number, one Chinese character (with its punctuation)."""

    segments: list[tuple[str, str]]  # (kind, text)
    length: float = 0.0
    space: bool = False


@dataclass(slots=True)
class _Column:
    tokens: list[_Token] = field(default_factory=list)
    indent: float = 0.0


class VerticalRenderer(_Renderer):
    """Lays a document out in vertical Mongolian columns (see the module docstring)."""

    def __init__(self, doc: Document, *, pdf: _PDF, fallbacks: Sequence[str] = ()) -> None:
        super().__init__(doc, pdf=pdf, fallbacks=fallbacks)
        self.lang = "mn"
        self.x = _LEFT
        self._seg_w: dict[tuple[str, str, float], float] = {}

    # ---- measuring

    def seg_len(self, kind: str, text: str, size: float) -> float:
        """Length along the column of one segment, mm (Mongolian as HarfBuzz shapes it)."""
        key = (kind, text, size)
        found = self._seg_w.get(key)
        if found is not None:
            return found
        if kind == "mn":
            pdf = self.pdf
            pdf.set_font(_MONGOLIAN, "", size)
            pdf.set_text_shaping(use_shaping_engine=True, script="mong", language="mon")
            found = pdf.get_string_width(text)
            pdf.set_text_shaping(False)
        elif kind == "up":
            found = len(text) * size * _PT
        else:
            found = self.text_w(text, _Style(size, False, 0))
        self._seg_w[key] = found
        return found

    def tokens(self, text: str, size: float) -> list[_Token]:
        out: list[_Token] = []
        word: list[str] = []

        def segments(chars: str) -> list[tuple[str, str]]:
            segs: list[tuple[str, str]] = []
            for ch in chars:
                kind = _kind(ch)
                if segs and segs[-1][0] == kind:
                    segs[-1] = (kind, segs[-1][1] + ch)
                else:
                    segs.append((kind, ch))
            return segs

        def flush() -> None:
            if word:
                out.append(_Token(segments("".join(word))))
                word.clear()

        for ch in text:
            if ch == " ":
                flush()
                out.append(_Token([("rot", " ")], space=True))
            elif _kind(ch) == "up" and ch not in _NO_START_MN:
                flush()
                out.append(_Token([("up", ch)]))
            else:
                word.append(ch)
        flush()
        # Kinsoku: closing punctuation stays with what it closes, opening with what it opens.
        merged: list[_Token] = []
        for tok in out:
            glue = bool(merged) and not tok.space and not merged[-1].space
            closes = tok.segments[0][1][:1] in _NO_START_MN
            opens = bool(merged) and merged[-1].segments[-1][1][-1:] in _NO_END
            if glue and (closes or opens):
                merged[-1].segments.extend(tok.segments)
            else:
                merged.append(tok)
        for tok in merged:
            tok.length = sum(self.seg_len(kind, t, size) for kind, t in tok.segments)
        return merged

    def columns(self, text: str, style: _Style, indent: float = 0.0) -> list[_Column]:
        """Break `text` into columns no longer than the page; each "\\n" starts a new paragraph."""
        cols: list[_Column] = []
        for paragraph in _clean(text).split("\n"):
            col = _Column(indent=indent)
            used = indent
            for tok in self.tokens(paragraph, style.size):
                if tok.space and not col.tokens:
                    continue
                if used + tok.length > _LENGTH + 1e-6 and col.tokens:
                    while col.tokens and col.tokens[-1].space:
                        col.tokens.pop()
                    cols.append(col)
                    col, used = _Column(), 0.0
                    if tok.space:
                        continue
                col.tokens.append(tok)
                used += tok.length
            cols.append(col)
        return cols

    @staticmethod
    def column_len(col: _Column) -> float:
        return col.indent + sum(t.length for t in col.tokens)

    # ---- drawing

    def draw_column(self, col: _Column, style: _Style, y: float | None = None, grey: bool = False) -> None:
        """Draw one column at `self.x`, from `y` (default: the top margin plus the column's indent)."""
        pdf = self.pdf
        w = style.line_h
        pos = (_TOP + col.indent) if y is None else y
        pdf.set_text_color(_GREY_TEXT if grey else 0)
        for tok in col.tokens:
            for kind, text in tok.segments:
                length = self.seg_len(kind, text, style.size)
                if kind == "up":
                    pdf.set_font(_SANS, "", style.size)
                    em = style.size * _PT
                    for k, ch in enumerate(text):
                        pdf.set_xy(self.x, pos + k * em)
                        pdf.cell(w, em, ch, align="C")
                else:
                    # Turned 90° clockwise about the column's top right corner: the run reads downwards.
                    with pdf.rotation(-90, self.x + w, pos):
                        if kind == "mn":
                            pdf.set_font(_MONGOLIAN, "", style.size)
                            pdf.set_text_shaping(use_shaping_engine=True, script="mong", language="mon")
                        else:
                            pdf.set_font(_SANS, "", style.size)
                        pdf.set_xy(self.x + w, pos)
                        pdf.cell(length, w, text)
                        pdf.set_text_shaping(False)
                pos += length
        pdf.set_text_color(0)

    def new_page(self) -> None:
        super().new_page()
        self.x = _LEFT

    def room(self, width: float) -> bool:
        return self.x + width <= _RIGHT + 1e-6

    def ensure_w(self, width: float) -> None:
        if not self.room(width) and self.x > _LEFT + 1e-6:
            self.new_page()

    def put(self, col: _Column, style: _Style, y: float | None = None) -> None:
        self.ensure_w(style.line_h)
        self.draw_column(col, style, y)
        self.x += style.line_h

    def centred(self, text: str, style: _Style, end: bool = False) -> None:
        for col in self.columns(text, style):
            free = _LENGTH - self.column_len(col)
            self.put(col, style, _TOP + (free if end else free / 2))

    # ---- blocks

    def header(self) -> None:
        doc = self.doc
        if doc.issuer:
            self.centred(doc.issuer, _MN_ISSUER)
        self.centred(doc.title, _MN_TITLE)
        if doc.number:
            self.centred(doc.number, _MN_NUMBER, end=True)
        self.x += _BLOCK_GAP

    def paragraph(self, text: str, style: _Style, indent: float, keep: float = 0.0) -> None:
        cols = self.columns(text, style, indent)
        for k, col in enumerate(cols):
            if keep and k == max(0, len(cols) - 2):
                self.ensure_w((len(cols) - k) * style.line_h + _BLOCK_GAP + keep)
            self.put(col, style)

    def heading_col(self, text: str, keep_with: float) -> None:
        cols = self.columns(text, _MN_HEADING)
        self.ensure_w(len(cols) * _MN_HEADING.line_h + keep_with)
        for col in cols:
            self.put(col, _MN_HEADING)

    def block_texts(self, block: Fields | Paragraphs | Table) -> tuple[list[str], list[int], float]:
        """The paragraphs a block is set as, the blank columns after each, and the first-column indent."""
        em = _MN_BODY.size * _PT
        if isinstance(block, Fields):
            items = [r if isinstance(r, Field) else Field(r[0], r[1]) for r in block.rows]
            return (
                [f"{f.label}{_MN_COLON} {f.value}" for f in items],
                [max(0, f.min_lines - 1) if f.value else f.min_lines for f in items],
                0.0,
            )
        if isinstance(block, Table):
            texts = []
            for n, row in enumerate(block.rows, start=1):
                pairs = [f"{h}{_MN_COLON} {v}" for h, v in zip(block.headers, row, strict=False) if v]
                texts.append(f"{n}. " + f"{_MN_COMMA} ".join(pairs))
            return texts, [0] * len(texts), 0.0
        prefix = [f"{n}. " if block.numbered else "" for n in range(1, len(block.texts) + 1)]
        return (
            [p + t for p, t in zip(prefix, block.texts, strict=True)],
            [0] * len(block.texts),
            (2 * em if block.indent else 0.0),
        )

    def running(self, block: Fields | Paragraphs | Table, keep: float) -> None:
        texts, blanks, indent = self.block_texts(block)
        if block.heading:
            self.heading_col(block.heading, 2 * _MN_BODY.line_h)
        for n, (text, blank) in enumerate(zip(texts, blanks, strict=True)):
            last = n == len(texts) - 1
            self.paragraph(text, _MN_BODY, indent, keep if last and not blank else 0.0)
            for _ in range(blank):
                self.ensure_w(_MN_BODY.line_h)
                self.x += _MN_BODY.line_h
        self.x += _BLOCK_GAP

    def signatures_width(self, block: Signatures) -> float:
        parties = len(block.parties) * 2 * _MN_BODY.line_h
        seal = 2 * _SEAL_RADIUS if block.seal_of else _MN_BODY.line_h * bool(block.date_text)
        return parties + seal

    def signatures(self, block: Signatures) -> None:
        pdf = self.pdf
        self.ensure_w(self.signatures_width(block))
        w = _MN_BODY.line_h
        for party in block.parties:
            col = self.columns(f"{party}{_MN_COLON}", _MN_BODY)[0]
            self.draw_column(col, _MN_BODY)
            y0 = _TOP + self.column_len(col) + 2.0
            pdf.set_draw_color(0)
            pdf.set_line_width(0.25)
            pdf.line(self.x + 1.0, y0, self.x + 1.0, min(y0 + 70.0, _TOP + _LENGTH))
            self.x += 2 * w
        names = [t for t in (block.seal_of, block.date_text) if t]
        if block.seal_of:
            radius = _SEAL_RADIUS
            cx, cy = self.x + radius, _TOP + _LENGTH - radius - 10.0
            pdf.set_draw_color(_GREY_TEXT)
            pdf.set_dash_pattern(dash=1.2, gap=1.0)
            pdf.ellipse(cx - radius, cy - radius, 2 * radius, 2 * radius)
            pdf.set_dash_pattern()
            pdf.set_draw_color(0)
            seal_x = self.x
            for k, text in enumerate(names):
                col = self.columns(text, _MN_BODY)[0]
                self.x = cx - len(names) * w / 2 + k * w
                self.draw_column(col, _MN_BODY, max(_TOP, cy - self.column_len(col) / 2))
            self.x = seal_x + 2 * radius - _MN_SEAL.line_h
            mark = self.columns(self.seal_mark, _MN_SEAL)[0]
            self.draw_column(mark, _MN_SEAL, cy - self.column_len(mark) / 2, grey=True)
            self.x = seal_x + 2 * radius
        elif block.date_text:
            col = self.columns(block.date_text, _MN_BODY)[0]
            self.put(col, _MN_BODY, _TOP + _LENGTH - self.column_len(col))
        self.x += _BLOCK_GAP

    seal_mark = "(ᠲᠠᠮᠠᠭ᠎ᠠ)"  # （盖章）

    def signatures_room(self, block: Signatures) -> float:
        return self.signatures_width(block)

    def draw(self) -> None:
        for block, keep in self.blocks_to_draw():
            if isinstance(block, Signatures):
                self.signatures(block)
            else:
                self.running(block, keep)


RENDERERS["mn"] = VerticalRenderer
