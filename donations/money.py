"""Money as integer minor units plus an ISO 4217 currency code. No floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# ISO 4217 currencies in circulation, with the number of minor-unit digits.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2, "AUD": 2,
    "AWG": 2, "AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0,
    "BMD": 2, "BND": 2, "BOB": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2,
    "BZD": 2, "CAD": 2, "CDF": 2, "CHF": 2, "CLP": 0, "CNY": 2, "COP": 2, "CRC": 2,
    "CUP": 2, "CVE": 2, "CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2,
    "ERN": 2, "ETB": 2, "EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2, "GEL": 2, "GHS": 2,
    "GIP": 2, "GMD": 2, "GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2,
    "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2,
    "JOD": 3, "JPY": 0, "KES": 2, "KGS": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0,
    "KWD": 3, "KYD": 2, "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2,
    "LYD": 3, "MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2,
    "MRU": 2, "MUR": 2, "MVR": 2, "MWK": 2, "MXN": 2, "MYR": 2, "MZN": 2, "NAD": 2,
    "NGN": 2, "NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2,
    "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2,
    "RUB": 2, "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2,
    "SHP": 2, "SLE": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2,
    "SZL": 2, "THB": 2, "TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2,
    "TWD": 2, "TZS": 2, "UAH": 2, "UGX": 0, "USD": 2, "UYU": 2, "UZS": 2, "VES": 2,
    "VND": 0, "VUV": 0, "WST": 2, "XAF": 0, "XCD": 2, "XOF": 0, "XPF": 0, "YER": 2,
    "ZAR": 2, "ZMW": 2, "ZWG": 2,
}  # fmt: skip


def is_currency_code(code: str) -> bool:
    """True for an ISO 4217 code in circulation, given in capitals."""
    return code in CURRENCY_EXPONENTS


CURRENCY_SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "€", "GBP": "£", "JPY": "¥"}


class AmountError(ValueError):
    """The text is not an amount of money in this currency; the message says why."""


def exponent(currency: str) -> int:
    """Return the number of minor-unit digits of the currency (2 for USD)."""
    return CURRENCY_EXPONENTS.get(currency.upper(), 2)


def parse_amount(text: str, currency: str) -> int:
    """Return the amount written in ``text`` as minor units (cents), never a float.

    Accepts "50", "50.5", "1,234.56" and a leading currency symbol; refuses
    negative, zero, non-numeric and over-precise amounts with AmountError.
    """
    cleaned = (text or "").strip().replace(",", "").replace(" ", "")
    symbol = CURRENCY_SYMBOLS.get(currency.upper(), "")
    for prefix in (symbol, "$"):
        if prefix and cleaned.startswith(prefix):
            cleaned = cleaned[len(prefix) :]
    if not cleaned:
        raise AmountError("Enter an amount.")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise AmountError("Enter the amount as a number, such as 50 or 50.00.") from None
    if not value.is_finite():
        raise AmountError("Enter the amount as a number, such as 50 or 50.00.")
    if value <= 0:
        raise AmountError("Enter an amount greater than zero.")
    digits = exponent(currency)
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        if digits == 0:
            raise AmountError(f"{currency} amounts have no decimal places.")
        raise AmountError(f"Use at most {digits} decimal places.")
    return int(minor)


def format_money(cents: int | None, currency: str = "USD", *, symbol: bool = True) -> str:
    """Format minor units for people: 123456, "USD" -> "$1,234.56"."""
    if cents is None:
        return ""
    digits = exponent(currency)
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 10**digits) if digits else (abs(int(cents)), 0)
    number = f"{whole:,}" + (f".{frac:0{digits}d}" if digits else "")
    prefix = CURRENCY_SYMBOLS.get(currency.upper()) if symbol else None
    if prefix:
        return f"{sign}{prefix}{number}"
    return f"{sign}{number} {currency.upper()}"


def format_plain(cents: int, currency: str = "USD") -> str:
    """Format minor units without symbol or grouping, e.g. for CSV and inputs: "1234.56"."""
    digits = exponent(currency)
    sign = "-" if cents < 0 else ""
    if not digits:
        return f"{sign}{abs(cents)}"
    whole, frac = divmod(abs(int(cents)), 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}"


def processing_fee(total_cents: int, *, percent_bp: int, fixed_cents: int) -> int:
    """Return the card fee on a charge of ``total_cents``: percent rounded half up, plus fixed.

    This is the rule Stripe applies (and the local test-mode Stripe copies): 2.9 % + 30c
    on $36.35 is round(105.415) + 30 = 135c.
    """
    numerator = total_cents * percent_bp
    return (2 * numerator + 10_000) // 20_000 + fixed_cents


def gross_up(amount_cents: int, *, percent_bp: int, fixed_cents: int) -> int:
    """Return the smallest total whose net, after ``processing_fee``, is at least the amount.

    The net ``T - fee(T)`` never falls as T grows (the rounded percent rises by at most one
    cent per cent), so a binary search between the amount itself (which nets less) and a
    total that surely suffices finds the exact answer, in integers only.
    """
    if amount_cents <= 0:
        raise ValueError("amount must be positive")
    if not 0 <= percent_bp < 10_000 or fixed_cents < 0:
        raise ValueError("the fee must be under 100 % and not negative")

    def net(total: int) -> int:
        return total - processing_fee(total, percent_bp=percent_bp, fixed_cents=fixed_cents)

    # fee(T) <= T * p + 1/2 + fixed, so this total nets at least the amount.
    high = -(-(amount_cents + fixed_cents + 1) * 10_000 // (10_000 - percent_bp))
    low = amount_cents - 1  # nets less than the amount: the fee is never negative
    if net(amount_cents) >= amount_cents:
        return amount_cents  # no fee at all
    while high - low > 1:  # invariant: net(low) < amount <= net(high)
        middle = (low + high) // 2
        if net(middle) >= amount_cents:
            high = middle
        else:
            low = middle
    return high
