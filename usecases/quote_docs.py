"""A quote's documents: an XLSX whose cells hold numbers and a PDF with a Chinese font embedded (fpdf2 embeds the
subset of glyphs used). Both are made in a worker thread by the caller: a PDF takes a quarter of a second."""

from __future__ import annotations

import functools
import io
import logging
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from sales.model import Employee
from sales.quotes import Quote, QuoteLine, QuoteRules, Totals, capitals

if TYPE_CHECKING:
    from fpdf import FPDF

log = logging.getLogger(__name__)

# TrueType fonts with Chinese glyphs that Debian installs (fonts-wqy-microhei, fonts-wqy-zenhei, fonts-arphic-*)
FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
HEAD = ("序号", "编码", "名称", "单位", "数量", "单价(不含税)", "金额", "税率")


@functools.lru_cache(maxsize=4)
def cjk_font(configured: str | None) -> str | None:
    """The font file the PDF uses: the configured one, else the first installed of ``FONTS``; None without any (the
    quote then goes out as XLSX alone, and the answer says why)."""
    for candidate in ([configured] if configured else []) + list(FONTS):
        if Path(candidate).is_file():
            return candidate
    if configured:
        log.warning("GENJIN_QUOTE_FONT %s does not exist", configured)
    return None


def file_name(quote: Quote, kind: str) -> str:
    return f"{quote.number}-v{quote.version}.{kind}"


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _name(line: QuoteLine) -> str:
    """A bundle names what it holds: 入门套餐(含 A100×2、S01×1)."""
    if not line.includes:
        return line.name
    return f"{line.name}(含 " + "、".join(f"{code}×{n.normalize():f}" for code, n in line.includes) + ")"


def _rows(figures: Totals) -> list[tuple[object, ...]]:
    return [(i, t.line.code, _name(t.line), t.line.unit, t.line.quantity, t.line.list_price, t.amount,
             t.line.tax_rate) for i, t in enumerate(figures.lines, start=1)]  # fmt: skip


def _header(quote: Quote, rep: Employee | None) -> list[tuple[str, str]]:
    return [("报价单号", quote.label), ("客户", quote.customer_name), ("报价日期", quote.created_at.date().isoformat()),
            ("有效期至", quote.valid_until.isoformat()), ("销售", rep.name if rep else quote.rep_id)]  # fmt: skip


def _summary(quote: Quote, figures: Totals) -> list[tuple[str, Decimal]]:
    out = [("小计(不含税)", figures.subtotal)]
    if figures.discount:
        out.append(("优惠", -figures.discount))
    out += [("税额", figures.tax), ("合计(含税)", figures.total)]
    return out


def xlsx(quote: Quote, rules: QuoteRules, rep: Employee | None) -> bytes:
    """The quote as a workbook: amounts and quantities are numbers (formatted, never text), so it can be summed."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    figures = quote.figures()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "报价单"
    sheet.append([f"{rules.company} 报价单"])
    sheet["A1"].font = Font(bold=True, size=14)
    for key, value in _header(quote, rep):
        sheet.append([key, value])
    sheet.append([])
    sheet.append(list(HEAD))
    for row in _rows(figures):
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
        r = sheet.max_row
        sheet.cell(r, 5).number_format = "General"
        for c in (6, 7):
            sheet.cell(r, c).number_format = "#,##0.00"
        sheet.cell(r, 8).number_format = "0%"
    sheet.append([])
    for label, amount in _summary(quote, figures):
        sheet.append(["", "", "", "", "", label, float(amount)])
        sheet.cell(sheet.max_row, 7).number_format = "#,##0.00"
    sheet.append(["", "", "", "", "", "大写", capitals(figures.total)])
    if quote.payment_terms:
        sheet.append(["付款方式", quote.payment_terms])
    sheet.append(["说明", rules.terms])
    for column, width in zip("ABCDEFGH", (8, 12, 24, 8, 8, 16, 16, 8), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fit_cell(doc: FPDF, width: float, text: str, align: str) -> None:
    """A table cell whose text fits: a smaller font down to 6 pt, then cut with …."""
    size = 10.0
    while doc.get_string_width(text) > width - 2 and size > 6:
        size -= 0.5
        doc.set_font_size(size)
    while doc.get_string_width(text) > width - 2 and len(text) > 1:
        text = text[:-2] + "…"
    doc.cell(width, 7, text, border=1, align=align)
    doc.set_font_size(10)


def pdf(quote: Quote, rules: QuoteRules, rep: Employee | None) -> bytes | None:
    """The quote as a PDF in the Chinese font (its used glyphs embedded); None when the machine has no such font."""
    font = cjk_font(rules.font)
    if font is None:
        return None
    from fpdf import FPDF

    figures = quote.figures()
    doc = FPDF(format="A4")
    doc.set_auto_page_break(auto=True, margin=15)
    doc.add_page()
    if font.endswith(".ttc"):
        doc.add_font("cjk", fname=font, collection_font_number=0)
    else:
        doc.add_font("cjk", fname=font)
    if rules.logo and Path(rules.logo).is_file():
        try:
            doc.image(rules.logo, x=10, y=8, h=14)
        except Exception:
            log.warning("the logo %s could not be read", rules.logo)
    doc.set_font("cjk", size=16)
    doc.cell(0, 10, f"{rules.company} 报价单", align="C", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("cjk", size=10)
    for key, value in _header(quote, rep):
        doc.cell(0, 6, f"{key}:{value}", new_x="LMARGIN", new_y="NEXT")
    doc.ln(2)
    widths = (10, 22, 52, 12, 16, 28, 30, 14)
    doc.set_fill_color(235, 235, 235)
    for head, width in zip(HEAD, widths, strict=True):
        doc.cell(width, 7, head, border=1, align="C", fill=True)
    doc.ln()
    for row in _rows(figures):
        no, code, name, unit, qty, price, amount, rate = row
        assert isinstance(qty, Decimal) and isinstance(price, Decimal) and isinstance(amount, Decimal)
        assert isinstance(rate, Decimal)
        cells = (str(no), str(code), str(name), str(unit), _qty(qty), _money(price), _money(amount),
                 f"{(rate * 100).normalize():f}%")  # fmt: skip
        for text, width, align in zip(cells, widths, "CLLCRRRC", strict=True):
            _fit_cell(doc, width, text, align)
        doc.ln()
    doc.ln(2)
    for label, amount in _summary(quote, figures):
        doc.cell(sum(widths[:6]), 6, label, align="R")
        doc.cell(widths[6], 6, _money(amount), align="R", new_x="LMARGIN", new_y="NEXT")
    doc.cell(0, 7, f"合计金额(大写):{capitals(figures.total)}  (¥{_money(figures.total)})", new_x="LMARGIN",
             new_y="NEXT")  # fmt: skip
    if quote.discount is not None:
        doc.cell(0, 6, f"折扣:{quote.discount.words(figures.discount)}", new_x="LMARGIN", new_y="NEXT")
    if quote.payment_terms:
        doc.multi_cell(0, 6, f"付款方式:{quote.payment_terms}", new_x="LMARGIN", new_y="NEXT")
    doc.multi_cell(0, 6, f"说明:{rules.terms}", new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())
