"""Appeal codes: the mark a mail or print appeal leaves on the gifts it brings in.

A code such as ``YE2026`` arrives on a link (``/give?appeal=YE2026``) or is typed on an
offline gift. It is stored upper case: 2 to 20 letters, digits and hyphens, starting and
ending with a letter or digit.
"""

from __future__ import annotations

import re

from donations.models import Gift
from donations.services.errors import InvalidInput

APPEAL_CODE_MAX_LENGTH: int = Gift.__table__.c.appeal_code.type.length
# Starts and ends with a letter or digit: never read as a formula by a spreadsheet.
APPEAL_CODE_RE = re.compile(rf"^[A-Z0-9][A-Z0-9-]{{0,{APPEAL_CODE_MAX_LENGTH - 2}}}[A-Z0-9]$")
APPEAL_CODE_RULE = (
    f"Use 2 to {APPEAL_CODE_MAX_LENGTH} letters, digits and hyphens, starting and ending "
    "with a letter or digit, like YE2026 (or leave it blank)."
)


def normalize_appeal_code(raw: str | None, *, field: str = "appeal_code") -> str:
    """Return the code upper case, or "" for a blank one; raise InvalidInput when malformed."""
    code = (raw or "").strip().upper()
    if not code:
        return ""
    if not APPEAL_CODE_RE.match(code):
        raise InvalidInput(APPEAL_CODE_RULE, field=field)
    return code


def appeal_from_link(raw: str | None) -> str:
    """Return the code a donor's link carried, or "" when it is missing or malformed
    (a donor is never shown an error for the link they followed)."""
    try:
        return normalize_appeal_code(raw)
    except InvalidInput:
        return ""
