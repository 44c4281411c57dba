"""The fixed sentences and titles of receipts and statements (IRS Publication 1771)."""

TITLES = {
    "cash": "Donation receipt",
    "in_kind": "Acknowledgement of goods received",
    "statement": "Year-end giving statement",
}
RANGE_TITLE = "Giving statement"
NO_GOODS_CASH = "No goods or services were provided in exchange for this contribution."
NO_GOODS_IN_KIND = "We did not provide any goods or services in exchange for these items."
NO_VALUE_IN_KIND = (
    "The value of donated goods is determined by the donor; this acknowledgement states no value."
)
FORM_8283 = (
    "If your non-cash gifts for the year total more than $500, IRS Form 8283 must be filed "
    "with your tax return."
)
NO_GOODS_STATEMENT = (
    "Unless stated on the individual receipt, no goods or services were provided in exchange "
    "for these contributions."
)
# Statements that list each gift's deductible amount (IRS Publication 1771).
NO_GOODS_LISTED = "No goods or services were provided in exchange for these contributions."
GOODS_LISTED = (
    "Where a value received is shown, you received goods or services in exchange for that "
    "contribution, with the estimated fair market value stated. Only the amount of each "
    "contribution above that value, shown as deductible, is deductible for federal income tax "
    "purposes. No goods or services were provided in exchange for the other contributions."
)
PREVIEW_MARK = "PREVIEW — not issued"

TEST_MARK = "TEST \u2014 not a tax receipt"

EN_DASH = "\u2013"
