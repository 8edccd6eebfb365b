"""The certificate as a bilingual (Hindi + English) PDF.

Drawn with fpdf2, whose text shaping goes through HarfBuzz (``uharfbuzz``): Devanagari
conjuncts (प्र, क्ष, द्ध), the i-matra drawn before its consonant (कि) and reph (र्म) come
out as a Hindi reader expects.

Fonts are Debian's ``fonts-noto-core`` (``scripts/system_packages.sh`` installs it): Noto
Sans for Latin letters and digits, Noto Sans Devanagari (which has no Latin letters) as
its fallback for Hindi. They are named by file, not left to fontconfig, so a machine
without them fails loudly (:class:`FontsMissing`) instead of printing boxes.

Text comes back exactly: shaping turns "कि" into two glyphs in the order ि, क; a PDF
maps each glyph to text, and mapping the whole syllable to one of them and nothing to
the other (what fpdf2 does) makes ``pdftotext`` and copy-paste split words ("दि ल्ली").
:class:`_ExactTextFont` instead shares each syllable's characters out over its glyphs
that take up space, in drawing order, so that reading the glyphs left to right gives the
typed text back ("दिल्ली"). fpdf2 gives every distinct (glyph, text) pair its own
character code, so the same glyph can carry different text in different words.
"""

from __future__ import annotations

import dataclasses
import functools
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import fpdf
import qrcode
from fpdf import FPDF
from fpdf.fonts import TTFFont

from backends.db import ist_date
from service_catalogue import Department, Field, Service
from service_catalogue.validation import _rupees as rupees

#: :class:`_ExactTextFont` overrides ``TTFFont.shape_text`` of this fpdf2 series.
FPDF_SERIES = "2.8."
if not fpdf.__version__.startswith(FPDF_SERIES):  # pragma: no cover - pinned
    raise ImportError(
        f"backends.certificate_pdf was written against fpdf2 {FPDF_SERIES}x, "
        f"not {fpdf.__version__}: check _ExactTextFont.shape_text against TTFFont's"
    )

#: Where Debian (and Ubuntu) put fonts-noto-core's files; Fedora and Arch use the second.
FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/noto"))
LATIN, DEVANAGARI = "latin", "devanagari"
#: (family, fpdf2 style, file) of every face the certificate uses.
FONT_FILES = (
    (LATIN, "", "NotoSans-Regular.ttf"),
    (LATIN, "B", "NotoSans-Bold.ttf"),
    (DEVANAGARI, "", "NotoSansDevanagari-Regular.ttf"),
    (DEVANAGARI, "B", "NotoSansDevanagari-Bold.ttf"),
)

#: What the document is called in a sentence, by catalogue kind, (hi, en). Its number is
#: "Certificate number" whatever the kind, as on the verify page: a licence's own number
#: (the DL number) is one of its fields.
_DOCUMENT_NAME = {
    "certificate": ("प्रमाण पत्र", "certificate"),
    "licence": ("लाइसेंस", "licence"),
    "registration": ("पंजीकरण प्रमाण पत्र", "registration certificate"),
}

# Page geometry (mm) and colours.
PAGE_W, PAGE_H = 210.0, 297.0
LEFT, RIGHT = 19.0, 191.0
WIDTH = RIGHT - LEFT
TOP, BOTTOM = 17.0, 284.0
LABEL_W = 62.0
PAD_X, PAD_Y = 2.4, 1.5
QR_SIZE = 32.0
PT = 25.4 / 72  # one point in mm
INK = (27, 27, 27)
GREY = (85, 85, 85)
MAROON = (122, 31, 31)
BROWN = (122, 75, 18)
RULE = (185, 165, 138)
SHADE = (247, 241, 232)
LINK = (11, 61, 145)
SAFFRON = (255, 153, 51)
GREEN = (19, 136, 8)


class FontsMissing(RuntimeError):
    """The Devanagari and Latin fonts the certificate needs are not installed."""


@functools.lru_cache(maxsize=1)
def font_files() -> dict[str, Path]:
    """Path of every face, by file name; :class:`FontsMissing` says what to install."""
    found: dict[str, Path] = {}
    for _family, _style, name in FONT_FILES:
        path = next((d / name for d in FONT_DIRS if (d / name).is_file()), None)
        if path is None:
            raise FontsMissing(
                f"font {name} not found in {' or '.join(map(str, FONT_DIRS))}: install "
                "Debian's fonts-noto-core (scripts/system_packages.sh does)"
            )
        found[name] = path
    return found


class _ExactTextFont(TTFFont):
    """fpdf2's TrueType font, with each shaped syllable's text shared out over its
    glyphs so that the PDF's text reads back exactly as typed (module docstring)."""

    __slots__ = ()

    def shape_text(
        self, text: str, font_size_pt: float, text_shaping_params: dict[str, Any] | None
    ) -> Sequence[dict[str, Any]]:
        if not text:
            return []
        infos, positions = self.perform_harfbuzz_shaping(text, font_size_pt, text_shaping_params)
        clusters = [int(info.cluster) for info in infos]
        if clusters != sorted(clusters):  # right-to-left text: fpdf2's own mapping
            return super().shape_text(text, font_size_pt, text_shaping_params)
        starts = sorted(set(clusters))
        ends = dict(zip(starts, [*starts[1:], len(text)]))
        members: dict[int, list[int]] = {}
        for index, cluster in enumerate(clusters):
            members.setdefault(cluster, []).append(index)
        pieces: list[tuple[int, ...]] = [()] * len(infos)
        previous: int | None = None  # the previous syllable's last spacing glyph
        for start in starts:
            glyphs = members[start]
            chars = tuple(ord(c) for c in text[start : ends[start]])
            spacing = [g for g in glyphs if positions[g].x_advance > 0]
            if not spacing and previous is not None:
                # a lone mark (its own cluster): its text joins the syllable it sits on
                pieces[previous] += chars
                continue
            spacing = spacing or glyphs
            for n, at in enumerate(spacing):
                pieces[at] = chars[n : n + 1] if n < len(spacing) - 1 else chars[n:]
            previous = spacing[-1]
        shaped = []
        for index, info in enumerate(infos):
            position = positions[index]
            name = self.ttfont.getGlyphName(info.codepoint)
            width = round(self.scale * self.ttfont["hmtx"].metrics[name][0])
            glyph = self.subset.get_glyph(
                glyph=info.codepoint, unicode=pieces[index], glyph_name=name, glyph_width=width
            )
            if glyph is None:
                continue
            shaped.append(
                {
                    "mapped_char": self.subset.pick_glyph(glyph),
                    "x_advance": position.x_advance,
                    "y_advance": position.y_advance,
                    "x_offset": position.x_offset,
                    "y_offset": position.y_offset,
                    "force_positioning": width != position.x_advance
                    or position.x_offset != 0
                    or position.y_offset != 0
                    or position.y_advance != 0,
                }
            )
        return shaped


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the certificate's table: the field's labels and its value; a choice
    shows its Hindi title with the English one under it."""

    label_hi: str
    label_en: str
    value: str
    value_en: str = ""


@dataclasses.dataclass(frozen=True)
class Certificate:
    """Everything printed on one certificate."""

    service: Service
    department: Department
    number: str
    application_id: str
    fields: Mapping[str, Any]
    issued_at: datetime  # naive UTC; printed as the date in India
    applied_at: datetime  # naive UTC
    verify_url: str


def day(value: date) -> str:
    """A date as printed: DD/MM/YYYY."""
    return value.strftime("%d/%m/%Y")


def _value(field: Field, value: Any) -> tuple[str, str]:
    """(shown value, English line under it) of one answer."""
    if field.type == "choice":
        choice = field.choice(str(value))
        if choice is not None:
            hi, en = choice.title("hi"), choice.title("en")
            return (hi, en) if hi != en else (hi, "")
    if field.type == "date":
        try:
            return day(date.fromisoformat(str(value))), ""
        except ValueError:
            pass
    if field.type == "amount" and isinstance(value, int) and not isinstance(value, bool):
        return rupees(value), ""
    return " ".join(str(value).split()), ""


def rows(service: Service, fields: Mapping[str, Any]) -> list[Row]:
    """The certificate's table: every answered field, in the form's order, under its
    catalogue label, each field once."""
    out = []
    for field in service.fields:
        value = fields.get(field.id)
        if value is None or str(value).strip() == "":
            continue
        shown, english = _value(field, value)
        out.append(Row(field.label("hi"), field.label("en"), shown, english))
    return out


_VIRAMA, _ZWJ, _ZWNJ = "\u094d", "\u200d", "\u200c"


def _can_break_before(word: str, i: int) -> bool:
    """Whether a line may end before ``word[i]`` without splitting a syllable: not
    before a vowel sign or other mark, nor inside a conjunct (after a virama)."""
    char, previous = word[i], word[i - 1]
    if unicodedata.category(char)[0] == "M" or char in (_ZWJ, _ZWNJ):
        return False
    return previous not in (_VIRAMA, _ZWJ)


class _Pdf(FPDF):
    """An A4 page with the certificate's fonts, text shaping and drawing helpers."""

    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(LEFT, TOP, PAGE_W - RIGHT)
        self.c_margin = 0
        files = font_files()
        for family, style, name in FONT_FILES:
            self.add_font(family, style, str(files[name]))
        for font in self.fonts.values():
            if type(font) is TTFFont:
                font.__class__ = _ExactTextFont
        self.set_fallback_fonts([DEVANAGARI], exact_match=False)
        self.set_text_shaping(True)
        self._wrapped: dict[tuple[float, str, float, bool], list[str]] = {}

    def _render_styled_text_line(self, *args: Any, **kwargs: Any) -> Any:
        # fpdf2 2.8 loses track of the font when a line ends in the fallback (Devanagari)
        # font: the PDF keeps it selected, fpdf2 thinks its primary font still is, and the
        # next line in the primary font is drawn in the wrong font and size. Select the
        # font afresh at the start of every line.
        self.current_font_is_set_on_page = False
        return super()._render_styled_text_line(*args, **kwargs)

    def frame(self) -> None:
        self.set_draw_color(*BROWN)
        self.set_line_width(0.9)
        self.rect(8, 8, PAGE_W - 16, PAGE_H - 16)
        self.set_line_width(0.3)
        self.rect(10, 10, PAGE_W - 20, PAGE_H - 20)
        # a thin saffron and green band under the top border
        self.set_fill_color(*SAFFRON)
        self.rect(10.15, 10.15, PAGE_W - 20.3, 1.2, style="F")
        self.set_fill_color(*GREEN)
        self.rect(10.15, 11.35, PAGE_W - 20.3, 1.2, style="F")

    def _style(self, size: float, bold: bool, color: tuple[int, int, int]) -> float:
        self.set_font(LATIN, "B" if bold else "", size)
        self.set_text_color(*color)
        return size * PT * 1.45  # line height

    def lines(self, width: float, text: str, size: float, bold: bool = False) -> list[str]:
        """``text`` wrapped to ``width`` at spaces (a word wider than that at syllable
        boundaries, never inside one); each line measured once, shaped."""
        key = (width, text, size, bold)
        if key not in self._wrapped:
            self._style(size, bold, INK)
            space = self.get_string_width(" ")
            out: list[str] = []
            for paragraph in text.split("\n"):
                line, used = "", 0.0
                for word in paragraph.split():
                    # Words are shaped one by one: nothing joins across a space.
                    needed = self.get_string_width(word)
                    if line and used + space + needed <= width:
                        line, used = f"{line} {word}", used + space + needed
                        continue
                    if line:
                        out.append(line)
                    line, used = word, needed
                    while used > width:
                        head = self._longest_head(line, width)
                        out.append(head)
                        line = line[len(head) :]
                        used = self.get_string_width(line)
                out.append(line)
            self._wrapped[key] = out
        return self._wrapped[key]

    def _longest_head(self, word: str, width: float) -> str:
        """The longest start of ``word`` that fits ``width`` and ends between syllables
        (at least one syllable, even if that is wider)."""
        cuts = [i for i in range(1, len(word)) if _can_break_before(word, i)]
        best = cuts[0] if cuts else len(word)
        for cut in cuts:
            if self.get_string_width(word[:cut]) > width:
                break
            best = cut
        return word[:best]

    def height(self, width: float, text: str, size: float, bold: bool = False) -> float:
        return self._style(size, bold, INK) * len(self.lines(width, text, size, bold))

    def text_at(
        self,
        x: float,
        y: float,
        width: float,
        text: str,
        size: float,
        bold: bool = False,
        color: tuple[int, int, int] = INK,
        align: str = "L",
    ) -> float:
        """Write ``text`` wrapped to ``width`` from (x, y); returns the y below it."""
        wrapped = self.lines(width, text, size, bold)
        height = self._style(size, bold, color)
        for line in wrapped:
            self.set_xy(x, y)
            self.cell(width, height, line, align=align)
            y += height
        return y

    def rule(self, y: float, width: float = 0.5) -> None:
        self.set_draw_color(*BROWN)
        self.set_line_width(width)
        self.line(LEFT, y, RIGHT, y)

    def qr(self, x: float, y: float, size: float, data: str) -> None:
        """``data`` as a QR code drawn in vector squares (sharp at any zoom or print)."""
        code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
        code.add_data(data)
        code.make(fit=True)
        matrix = code.get_matrix()
        module = size / len(matrix)
        self.set_fill_color(255, 255, 255)
        self.rect(x, y, size, size, style="F")
        self.set_fill_color(0, 0, 0)
        for r, line in enumerate(matrix):
            c = 0
            while c < len(line):
                if not line[c]:
                    c += 1
                    continue
                run = c
                while run < len(line) and line[run]:
                    run += 1
                self.rect(x + c * module, y + r * module, (run - c) * module, module, style="F")
                c = run


def _table(pdf: _Pdf, y: float, table: Sequence[Row]) -> float:
    value_w = WIDTH - LABEL_W
    pdf.set_line_width(0.25)
    pdf.set_draw_color(*RULE)
    for row in table:
        left = pdf.height(LABEL_W - 2 * PAD_X, row.label_hi, 10.5, True) + pdf.height(
            LABEL_W - 2 * PAD_X, row.label_en, 8.5
        )
        right = pdf.height(value_w - 2 * PAD_X, row.value, 11.5, True)
        if row.value_en:
            right += pdf.height(value_w - 2 * PAD_X, row.value_en, 9.5)
        height = max(left, right) + 2 * PAD_Y
        pdf.set_fill_color(*SHADE)
        pdf.set_draw_color(*RULE)
        pdf.rect(LEFT, y, LABEL_W, height, style="DF")
        pdf.rect(LEFT + LABEL_W, y, value_w, height, style="D")
        below = pdf.text_at(LEFT + PAD_X, y + PAD_Y, LABEL_W - 2 * PAD_X, row.label_hi, 10.5, True)
        pdf.text_at(LEFT + PAD_X, below, LABEL_W - 2 * PAD_X, row.label_en, 8.5, color=GREY)
        x = LEFT + LABEL_W + PAD_X
        below = pdf.text_at(x, y + PAD_Y, value_w - 2 * PAD_X, row.value, 11.5, True)
        if row.value_en:
            pdf.text_at(x, below, value_w - 2 * PAD_X, row.value_en, 9.5, color=GREY)
        y += height
    return y


_AUTHORITY = (
    ("जारीकर्ता प्राधिकारी / Issuing authority", 10, True, INK),
    (None, 9.5, False, INK),  # the department
    ("इलेक्ट्रॉनिक रूप से जारी; हस्ताक्षर की आवश्यकता नहीं।", 8.5, False, GREY),
    ("Issued electronically; no signature is needed.", 8.5, False, GREY),
)
AUTHORITY_W = 100.0


def _footer_height(pdf: _Pdf, department: str) -> float:
    """Height of the issuing authority block and the verification band under it."""
    authority = sum(
        pdf.height(AUTHORITY_W, text or department, size, bold)
        for text, size, bold, _ in _AUTHORITY
    )
    return authority + 5 + QR_SIZE


def _footer(pdf: _Pdf, cert: Certificate, document: tuple[str, str]) -> None:
    hi, en = document
    department = f"{cert.department.title('hi')}, {cert.department.title('en')}"
    # Issuing authority, right-aligned above the verification band.
    y = BOTTOM - _footer_height(pdf, department)
    for text, size, bold, color in _AUTHORITY:
        y = pdf.text_at(
            RIGHT - AUTHORITY_W, y, AUTHORITY_W, text or department, size, bold, color, "R"
        )
    # Verification: the QR code and the same address in print.
    top = BOTTOM - QR_SIZE
    pdf.rule(top - 3, 0.3)
    pdf.qr(LEFT, top, QR_SIZE, cert.verify_url)
    x, width = LEFT + QR_SIZE + 5, WIDTH - QR_SIZE - 5
    y = pdf.text_at(
        x,
        top + 1,
        width,
        f"इस {hi} की असलियत जाँचने के लिए QR कोड स्कैन करें या यह पता खोलें:",
        9.5,
    )
    y = pdf.text_at(
        x, y, width, f"To check that this {en} is genuine, scan the QR code or open:", 9.5
    )
    size = 9.0  # the address on one line if it can be read at 6.5 pt or more
    while size > 6.5 and pdf.get_string_width(cert.verify_url) > width:
        size -= 0.25
        pdf.set_font(LATIN, "", size)
    y = pdf.text_at(x, y + 0.8, width, cert.verify_url, size, color=LINK)
    pdf.text_at(
        x,
        y + 0.8,
        width,
        f"जाँच पेज पर यही विवरण दिखना चाहिए, वरना यह {hi} मान्य नहीं है। "
        f"The check page must show the same details, or this {en} is not valid.",
        8,
        color=GREY,
    )


def render(cert: Certificate) -> bytes:
    """The certificate as PDF bytes (A4, one page unless its answers are very long)."""
    service, department = cert.service, cert.department
    document = _DOCUMENT_NAME.get(service.kind, ("दस्तावेज़", "document"))
    dept_hi, dept_en = department.title("hi"), department.title("en")

    pdf = _Pdf()
    pdf.set_title(f"{service.title('en')} {cert.number}")
    pdf.set_subject(f"{service.title('hi')} / {service.title('en')}")
    pdf.set_author(f"{dept_en}, Government of NCT of Delhi")
    pdf.set_creator("Delhi Sewa")
    pdf.set_lang("hi")
    pdf.set_creation_date(cert.issued_at.replace(tzinfo=timezone.utc))
    pdf.add_page()
    pdf.frame()

    y = pdf.text_at(LEFT, TOP, WIDTH, "राष्ट्रीय राजधानी क्षेत्र दिल्ली सरकार", 16, True, align="C")
    y = pdf.text_at(
        LEFT, y, WIDTH, "Government of National Capital Territory of Delhi", 12.5, True, align="C"
    )
    y = pdf.text_at(LEFT, y + 0.5, WIDTH, f"{dept_hi} · {dept_en}", 11, color=GREY, align="C")
    pdf.rule(y + 2.5)

    y = pdf.text_at(LEFT, y + 5.5, WIDTH, service.title("hi"), 20, True, MAROON, "C")
    y = pdf.text_at(LEFT, y, WIDTH, service.title("en"), 14, True, align="C")

    facts = (
        ("प्रमाण पत्र संख्या / Certificate number", cert.number),
        ("जारी करने की तिथि / Date of issue", day(ist_date(cert.issued_at))),
        ("आवेदन संख्या / Application number", cert.application_id),
        ("आवेदन की तिथि / Date of application", day(ist_date(cert.applied_at))),
    )
    y += 4
    half = WIDTH / 2
    for n in (0, 2):
        bottoms = []
        for column, (label, value) in enumerate(facts[n : n + 2]):
            x = LEFT + column * half
            below = pdf.text_at(x, y, half - 3, label, 8.5, color=GREY)
            bottoms.append(pdf.text_at(x, below, half - 3, value, 11, True))
        y = max(bottoms) + 1

    hi, en = document
    y = pdf.text_at(
        LEFT, y + 2.5, WIDTH, f"यह {hi} नीचे दिए गए विवरण के सत्यापन के बाद जारी किया गया है।", 10
    )
    y = pdf.text_at(
        LEFT, y, WIDTH, f"This {en} is issued after verification of the particulars below.", 9.5
    )
    y = _table(pdf, y + 3, rows(service, cert.fields))

    footer_top = BOTTOM - _footer_height(pdf, f"{dept_hi}, {dept_en}")
    if y > footer_top - 4:  # very long answers: the verification goes on a second page
        pdf.add_page()
        pdf.frame()
    _footer(pdf, cert, document)
    return bytes(pdf.output())
