"""Volunteers: sign-up with a confirmed email, staff review, shifts and hours.

Split by concern: ``links`` (the signed links a volunteer uses instead of a password),
``skills`` (the admin's list, seeded on first use), ``signup`` (the public form, email
confirmation, a new link by email), ``records`` (staff: the list, approval, background
check, training, notes), ``shifts`` (opportunities, shifts, signing up and cancelling),
``hours`` (attendance, hours outside shifts, totals and the letter of hours),
``reminders`` (the day-before mail) and ``pro_bono`` (professional services given
without charge, numbered "PB-2026-0001" and acknowledged with no value). Callers use
``from donations.services import volunteers`` and the names re-exported here.

Survivor safety: staff notes and descriptions of hours are screened
(``privacy.check_free_text``); a confidential site's address is given only in the mail to
the volunteer who signed up for its shift, never on a page that lists shifts.
"""

from __future__ import annotations

from donations.services.volunteers.hours import (
    HoursSummary,
    format_minutes,
    hours_summary,
    letter_pdf,
    log_hours,
    parse_hours,
    record_attendance,
)
from donations.services.volunteers.links import (
    confirm_token,
    page_token,
    page_url,
    volunteer_for_token,
    volunteer_to_confirm,
)
from donations.services.volunteers.pro_bono import (
    get_service,
    letter_filename,
    list_services,
    log_service,
    mail_service_letter,
    program_choices,
    service_letter_pdf,
    service_types,
    void_service,
)
from donations.services.volunteers.records import (
    VolunteerList,
    decide_volunteer,
    get_volunteer,
    list_volunteers,
    update_volunteer_record,
)
from donations.services.volunteers.reminders import REMINDER_KIND, remind_upcoming_shifts
from donations.services.volunteers.shifts import (
    add_shift,
    cancel_signup,
    create_opportunity,
    get_opportunity,
    get_shift,
    list_opportunities,
    open_sites,
    shift_address_lines,
    sign_up_for_shift,
    volunteer_page,
)
from donations.services.volunteers.signup import (
    WEEKDAYS,
    Application,
    confirm_email,
    request_page_link,
    sign_up_volunteer,
)
from donations.services.volunteers.skills import (
    DEFAULT_SKILLS,
    add_skill,
    all_skills,
    ensure_skills,
    offered_skills,
    set_skill_active,
)

__all__ = [
    "DEFAULT_SKILLS",
    "REMINDER_KIND",
    "WEEKDAYS",
    "Application",
    "HoursSummary",
    "VolunteerList",
    "add_shift",
    "add_skill",
    "all_skills",
    "cancel_signup",
    "confirm_email",
    "confirm_token",
    "create_opportunity",
    "decide_volunteer",
    "ensure_skills",
    "format_minutes",
    "get_opportunity",
    "get_service",
    "get_shift",
    "get_volunteer",
    "hours_summary",
    "letter_filename",
    "letter_pdf",
    "list_opportunities",
    "list_services",
    "list_volunteers",
    "log_hours",
    "log_service",
    "mail_service_letter",
    "offered_skills",
    "open_sites",
    "page_token",
    "page_url",
    "parse_hours",
    "program_choices",
    "record_attendance",
    "remind_upcoming_shifts",
    "request_page_link",
    "service_letter_pdf",
    "service_types",
    "set_skill_active",
    "shift_address_lines",
    "sign_up_for_shift",
    "sign_up_volunteer",
    "update_volunteer_record",
    "void_service",
    "volunteer_for_token",
    "volunteer_page",
    "volunteer_to_confirm",
]
