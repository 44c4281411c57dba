"""What a volunteer's letter of hours says: plain data, filled by the volunteers service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_minutes(minutes: int) -> str:
    """ "3 h 05 min", "12 h" """
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


@dataclass(frozen=True)
class HoursMonth:
    year: int
    month: int
    minutes: int

    @property
    def label(self) -> str:
        return f"{MONTH_NAMES[self.month - 1]} {self.year}"

    @property
    def hours_text(self) -> str:
        return format_minutes(self.minutes)


@dataclass(frozen=True)
class VolunteerLetter:
    organization_name: str
    volunteer_name: str
    first_day: date
    last_day: date
    total_minutes: int
    made_on: date
    months: list[HoursMonth] = field(default_factory=list)  # oldest first
    organization_lines: list[str] = field(default_factory=list)
    organization_contact: str = ""
    signatory_name: str = ""
    signatory_title: str = ""
