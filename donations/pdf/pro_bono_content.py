"""What an acknowledgement of professional services says: plain data, filled by the
volunteers service. It holds no money at all: contributed services are not deductible,
so the letter never states a value."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class ServiceLetter:
    organization_name: str
    professional_name: str
    number: str
    issued_on: date
    service_date: date
    service_type: str
    description: str
    hours_text: str  # "3 h 30 min"
    program: str = ""
    organization_lines: list[str] = field(default_factory=list)
    organization_tax_id: str = ""
    organization_contact: str = ""
    signatory_name: str = ""
    signatory_title: str = ""
    voided: bool = False
