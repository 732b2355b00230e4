"""Quotes (报价单): the price list, the lines and discount a rep asks for, the totals to the fen, the approval a
discount needs, and the amount in Chinese capitals.

The rules, in one place (the README repeats them):
- list and floor prices are per unit, tax excluded; a line is quantity × unit price, rounded to the fen;
- a discount applies to the subtotal (九折: the subtotal less 10 %, rounded to the fen; 减2万: 20,000 off, at most
  the subtotal) and is shared over the lines in proportion to their amounts (the last fen to the largest lines,
  so the shares add up exactly);
- each line's tax is its discounted amount × its product's tax rate, rounded to the fen; the tax is their sum;
- the total is the subtotal less the discount plus the tax. Rounding is half up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

FEN = Decimal("0.01")
MAX_TOTAL = Decimal(10) ** 12  # yuan: a quote's total above this is a typo (and past what 大写 is written for)
ZERO = Decimal(0)


def fen(value: Decimal) -> Decimal:
    """Rounded half up to the fen."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Product:
    """One product in the price list, as it stands from ``effective_from`` until a later version of its code."""

    code: str
    name: str
    unit: str
    list_price: Decimal  # per unit, tax excluded
    tax_rate: Decimal  # 0.13
    effective_from: date
    floor_price: Decimal | None = None  # per unit, tax excluded: below it needs approval
    max_discount: Decimal | None = None  # the most off the list price a rep may give alone, 0.1 = 10 %
    aliases: tuple[str, ...] = ()  # short names reps use (A型, 实施)
    includes: tuple[tuple[str, Decimal], ...] = ()  # a bundle: the codes it holds and how many of each
    id: int | None = None


def current(products: Sequence[Product], on: date) -> list[Product]:
    """Each code's version in force on ``on`` (the latest effective date not after it)."""
    best: dict[str, Product] = {}
    for p in products:
        if p.effective_from <= on and (p.code not in best or p.effective_from > best[p.code].effective_from):
            best[p.code] = p
    return sorted(best.values(), key=lambda p: p.code)


class DiscountKind(StrEnum):
    RATE = "rate"  # 九折: pay 0.9 of the subtotal
    AMOUNT = "amount"  # 减2万: this much off


@dataclass(frozen=True)
class Discount:
    kind: DiscountKind
    value: Decimal  # the rate paid (0.9) or the yuan off (20000)

    def words(self, applied: Decimal | None = None) -> str:
        """How the discount reads: 优惠 10%(按 9 折), or the yuan it took off (``applied``: at most the subtotal)."""
        if self.kind is DiscountKind.AMOUNT:
            return f"优惠 {(self.value if applied is None else applied):,.2f} 元"
        off = (1 - self.value) * 100
        return f"优惠 {off.normalize():f}%(按 {(self.value * 10).normalize():f} 折)"


@dataclass(frozen=True)
class QuoteLine:
    """A line as quoted: the product's price-list facts at the time, so a later price list changes no sent quote."""

    code: str
    name: str
    unit: str
    quantity: Decimal
    list_price: Decimal
    tax_rate: Decimal
    floor_price: Decimal | None = None
    max_discount: Decimal | None = None
    includes: tuple[tuple[str, Decimal], ...] = ()

    @classmethod
    def of(cls, product: Product, quantity: Decimal) -> QuoteLine:
        return cls(product.code, product.name, product.unit, quantity, product.list_price, product.tax_rate,
                   product.floor_price, product.max_discount, product.includes)  # fmt: skip

    @property
    def amount(self) -> Decimal:
        return fen(self.quantity * self.list_price)

    def limit(self) -> Decimal | None:
        """The lowest unit price a rep may quote alone: the floor, or the list price less the most discount a rep
        may give, whichever is higher; None when the price list sets neither."""
        cheapest = self.list_price * (1 - self.max_discount) if self.max_discount is not None else None
        prices = [p for p in (self.floor_price, cheapest) if p is not None]
        return max(prices) if prices else None


@dataclass(frozen=True)
class LineTotal:
    line: QuoteLine
    amount: Decimal  # quantity × list price
    discount: Decimal  # this line's share of the discount
    tax: Decimal

    @property
    def net(self) -> Decimal:
        return self.amount - self.discount

    @property
    def unit_price(self) -> Decimal:
        """The discounted unit price (tax excluded), to compare with the floor."""
        return self.net / self.line.quantity if self.line.quantity else ZERO


@dataclass(frozen=True)
class Totals:
    lines: tuple[LineTotal, ...]
    subtotal: Decimal
    discount: Decimal
    tax: Decimal

    @property
    def net(self) -> Decimal:
        return self.subtotal - self.discount

    @property
    def total(self) -> Decimal:
        return self.net + self.tax

    @property
    def rate_off(self) -> Decimal:
        """The share of the subtotal given away."""
        return self.discount / self.subtotal if self.subtotal else ZERO


def totals(lines: Sequence[QuoteLine], discount: Discount | None) -> Totals:
    """The quote's figures by the module's rules."""
    amounts = [line.amount for line in lines]
    subtotal = sum(amounts, ZERO)
    off = ZERO
    if discount is not None and discount.kind is DiscountKind.RATE:
        off = subtotal - fen(subtotal * discount.value)
    elif discount is not None:
        off = min(fen(discount.value), subtotal)
    shares = _share(off, amounts)
    out = tuple(LineTotal(line, a, s, fen((a - s) * line.tax_rate))
                for line, a, s in zip(lines, amounts, shares, strict=True))  # fmt: skip
    return Totals(out, subtotal, off, sum((t.tax for t in out), ZERO))


def _share(off: Decimal, amounts: Sequence[Decimal]) -> list[Decimal]:
    """``off`` over the amounts in proportion, in fen, adding up exactly (largest remainders get the last fen)."""
    whole = sum(amounts, ZERO)
    if not off or not whole:
        return [ZERO for _ in amounts]
    cents = int(off / FEN)
    exact = [Decimal(cents) * a / whole for a in amounts]
    floors = [int(x) for x in exact]
    rest = cents - sum(floors)
    order = sorted(range(len(amounts)), key=lambda i: (-(exact[i] - floors[i]), -amounts[i], i))
    for i in order[:rest]:
        floors[i] += 1
    return [Decimal(f) * FEN for f in floors]


class Approval(StrEnum):
    NONE = "none"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"  # the supervisor, then an admin


def approval(figures: Totals, admin_rate: Decimal) -> tuple[Approval, list[str]]:
    """Who must approve, and why in words: a line below its product's limit (the floor, or the most discount a rep
    may give) needs the supervisor; a quote giving away more than ``admin_rate`` of its subtotal needs an admin too."""
    why = []
    for t in figures.lines:
        limit = t.line.limit()
        if limit is not None and t.unit_price < limit - Decimal("0.005"):
            off = (1 - t.unit_price / t.line.list_price) * 100 if t.line.list_price else ZERO
            allowed = (f"最多优惠 {(t.line.max_discount * 100).normalize():f}%" if t.line.max_discount is not None
                       else f"底价 {t.line.floor_price:,.2f} 元")  # fmt: skip
            why.append(f"{t.line.name}优惠 {off:.1f}%,超出{allowed}")
    if figures.rate_off > admin_rate:
        why.append(f"整单优惠 {figures.rate_off * 100:.1f}%,超过 {(admin_rate * 100).normalize():f}% 需管理员审批")
        return Approval.ADMIN, why
    return (Approval.SUPERVISOR if why else Approval.NONE), why


class QuoteStatus(StrEnum):
    PENDING = "pending"  # waiting for an approval
    SENT = "sent"  # final: the documents went to the rep
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # a later version came while this one waited: it can no longer be approved


@dataclass
class Quote:
    """One version of a numbered quote. A revision is a new row with the same number and the next version."""

    number: str  # Q-2026-0001
    version: int
    customer_id: int
    customer_name: str
    rep_id: str
    lines: tuple[QuoteLine, ...]
    discount: Discount | None
    valid_until: date
    payment_terms: str | None
    created_at: datetime
    status: QuoteStatus = QuoteStatus.PENDING
    approval: Approval = Approval.NONE
    waiting_for: str | None = None  # the approver who has it now
    decided_by: str | None = None
    note: str | None = None  # why it needs approval, or why it was rejected
    total: Decimal = ZERO  # kept for lists and the pipeline; the figures come from ``figures``
    id: int | None = None
    meta: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.number} 第{self.version}版"

    def figures(self) -> Totals:
        return totals(self.lines, self.discount)


@dataclass(frozen=True)
class QuoteRules:
    """The admin's settings (``GENJIN_QUOTE_*``): who the quotes are from, how long they hold, when an admin must
    approve too, and the files the documents use."""

    company: str = "本公司"
    terms: str = "本报价含税(税率见明细),交货期以合同为准。"
    valid_days: int = 30
    admin_rate: Decimal = Decimal(
        "0.25"
    )  # a quote giving away more than this share needs an admin after the supervisor
    logo: str | None = None  # a PNG or JPEG
    font: str | None = None  # a TrueType font with Chinese glyphs (.ttf or .ttc); None: looked for on the machine


def number(year: int, serial: int) -> str:
    return f"Q-{year}-{serial:04d}"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL = ("", "拾", "佰", "仟")
_BIG = ("", "万", "亿", "万亿")


def capitals(amount: Decimal) -> str:
    """The amount in Chinese capitals as on an invoice: 壹拾贰万叁仟肆佰伍拾陆元柒角捌分, 壹佰元整, 零元整."""
    value = fen(amount)
    sign = "负" if value < 0 else ""
    cents = int(abs(value) / FEN)
    yuan, jiao, fen_ = cents // 100, cents // 10 % 10, cents % 10
    words = _integer(yuan) + "元" if yuan else ""
    if not jiao and not fen_:
        return sign + (words or "零元") + "整"
    if jiao:
        words += ("零" if yuan and yuan % 10 == 0 else "") + _DIGITS[jiao] + "角"
    elif yuan:
        words += "零"
    if fen_:
        words += _DIGITS[fen_] + "分"
    else:
        words += "整"
    return sign + words


def _integer(n: int) -> str:
    """A whole number in capitals, groups of four digits (万, 亿), one 零 for each run of zeros inside; above 亿 the
    亿s are a number of their own (壹万贰仟叁佰肆拾伍亿)."""
    if n >= 10**8:
        high, low = divmod(n, 10**8)
        rest = _integer(low) if low else ""
        return _integer(high) + "亿" + ("零" + rest if low and low < 10**7 else rest)
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out = ""
    zero = False
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if g == 0:
            zero = bool(out)
            continue
        if out and (zero or g < 1000):
            out += "零"
        out += _group(g) + _BIG[i]
        zero = False
    return out


def _group(g: int) -> str:
    digits = [g // 1000, g // 100 % 10, g // 10 % 10, g % 10]
    out, pending_zero, started = "", False, False
    for pos, d in enumerate(digits):
        if d == 0:
            pending_zero = started
            continue
        if pending_zero:
            out += "零"
        out += _DIGITS[d] + _SMALL[3 - pos]
        started, pending_zero = True, False
    return out


def line_json(line: QuoteLine) -> dict[str, object]:
    """A line as JSON (amounts as strings, so no fen is lost), for the store and for questions."""
    return {
        "code": line.code, "name": line.name, "unit": line.unit, "quantity": str(line.quantity),
        "list_price": str(line.list_price), "tax_rate": str(line.tax_rate),
        "floor_price": None if line.floor_price is None else str(line.floor_price),
        "max_discount": None if line.max_discount is None else str(line.max_discount),
        "includes": [[code, str(n)] for code, n in line.includes],
    }  # fmt: skip


def line_of(data: Mapping[str, object]) -> QuoteLine:
    def dec(key: str) -> Decimal | None:
        value = data.get(key)
        return None if value is None else Decimal(str(value))

    includes = data.get("includes") or []
    assert isinstance(includes, list)
    return QuoteLine(str(data["code"]), str(data["name"]), str(data["unit"]), Decimal(str(data["quantity"])),
                     Decimal(str(data["list_price"])), Decimal(str(data["tax_rate"])), dec("floor_price"),
                     dec("max_discount"), tuple((str(c), Decimal(str(n))) for c, n in includes))  # fmt: skip


def discount_json(discount: Discount | None) -> dict[str, str] | None:
    return None if discount is None else {"kind": discount.kind.value, "value": str(discount.value)}


def discount_of(data: Mapping[str, object] | None) -> Discount | None:
    return None if not data else Discount(DiscountKind(str(data["kind"])), Decimal(str(data["value"])))
