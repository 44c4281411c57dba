"""The grant report (/reports/grant): cash gifts by fund and restriction reconcile with
the gifts ledger, gifts in kind by category at fair value, goods distributed per program,
volunteer hours by skill counted once, professional services by type; the program filter,
the period's edges, who may see it, the CSV and PDF carrying the same totals, and another
organisation's figures never appearing."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import Item, Recipient, VolunteerHours, utcnow
from donations.money import format_money
from donations.pdf.volunteer_content import format_minutes
from donations.services import (
    gifts,
    giving,
    grant_report,
    inventory,
    organizations,
    volunteers,
)
from donations.services.errors import InvalidInput
from donations.services.gifts.corrections import correct_gift
from donations.services.gifts.offline import record_offline_gift
from donations.services.organization import update_organization
from donations.tenancy import use_organization

TODAY = utcnow().date()
START = TODAY - timedelta(days=60)


def program(name: str) -> Recipient:
    return db.session.scalar(select(Recipient).where(Recipient.name == name))


def valued(goods, code: str, cents: int | None) -> Item:
    item = goods.items[code]
    item.fair_value_cents = cents
    return item


def skilled(make_volunteer, name: str, skills: list[str]):
    volunteer = make_volunteer(name)
    known = {s.name: s for s in volunteers.ensure_skills()}
    volunteer.skills = [known[s] for s in skills]
    db.session.commit()
    return volunteer


@pytest.fixture
def books(goods, create_donor, make_volunteer, organization):
    """A period's gifts, goods in and out, hours and services: returns what it made."""
    update_organization(
        actor=None, legal_name=organization.legal_name, volunteer_hour_value_cents=3000
    )
    funds = giving.ensure_default_funds()
    donor = create_donor("Grant Giver")
    for fund, cents, days_ago in (
        (funds[0], 10_000, 10),
        (funds[1], 25_000, 20),
        (funds[2], 5_000, 5),
    ):
        record_offline_gift(
            actor=None,
            donor_id=donor.id,
            fund_id=fund.id,
            method="cash",
            amount_cents=cents,
            currency="USD",
            received_on=TODAY - timedelta(days=days_ago),
        )
    corrected = record_offline_gift(
        actor=None,
        donor_id=donor.id,
        fund_id=funds[0].id,
        method="cash",
        amount_cents=7_000,
        currency="USD",
        received_on=TODAY - timedelta(days=3),
    )
    correct_gift(actor=None, gift=corrected, reason="Counted twice", void_only=True)
    # A gift outside the period never counts.
    record_offline_gift(
        actor=None,
        donor_id=donor.id,
        fund_id=funds[0].id,
        method="cash",
        amount_cents=99_900,
        currency="USD",
        received_on=START - timedelta(days=1),
    )
    valued(goods, "SOCKS-M", 250)
    valued(goods, "SOAP", 125)
    valued(goods, "TOOTHBRUSH", None)
    inventory.record_intake(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY - timedelta(days=15),
        source="donor",
        donor_id=donor.id,
        lines=[goods.line("SOCKS-M", 40, "new"), goods.line("SOAP", 20, "new")],
    )
    inventory.record_intake(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY - timedelta(days=14),
        source="anonymous",
        lines=[goods.line("TOOTHBRUSH", 30, "new"), goods.line("SOAP", 8, "new")],
    )
    reversed_intake = inventory.record_intake(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY - timedelta(days=13),
        source="drive",
        drive_name="Office drive",
        lines=[goods.line("SOCKS-M", 4, "new")],
    )
    inventory.reverse_document(actor=None, document_id=reversed_intake.id, note="Entered twice")
    for name, quantities in (("Street outreach", (10, 5)), ("Youth program", (6, 2))):
        inventory.record_distribution(
            actor=None,
            site_id=goods.shelter.id,
            effective_date=TODAY - timedelta(days=7),
            lines=[goods.line("SOCKS-M", quantities[0]), goods.line("SOAP", quantities[1])],
            recipient_id=program(name).id,
        )
    db.session.commit()
    sorter = skilled(make_volunteer, "Tom Sorter", ["Sorting"])
    linguist = skilled(make_volunteer, "Olga Linguist", ["Translation", "Sorting"])
    lawyer = skilled(make_volunteer, "Dana Lawyer", ["Legal"])
    for who, days_ago, typed in (
        (sorter, 30, "3"),
        (sorter, 9, "2:30"),
        (linguist, 8, "4"),
        (linguist, 200, "9"),  # outside the period
    ):
        volunteers.log_hours(
            actor=None, volunteer_id=who.id, worked_on=TODAY - timedelta(days=days_ago), hours=typed
        )
    services = [
        volunteers.log_service(
            actor=None,
            volunteer_id=lawyer.id,
            service_type="legal",
            service_date=TODAY - timedelta(days=days_ago),
            hours=typed,
            description="Immigration clinic",
            program_id=program(name).id if name else None,
            fair_rate_cents=rate,
        )
        for days_ago, typed, name, rate in (
            (12, "2.5", "Street outreach", 15_000),
            (6, "1:20", "Youth program", 12_000),
            (4, "3", None, 9_000),
        )
    ]
    voided = volunteers.log_service(
        actor=None,
        volunteer_id=lawyer.id,
        service_type="medical",
        service_date=TODAY - timedelta(days=2),
        hours="5",
        description="Health checks",
        program_id=None,
        fair_rate_cents=20_000,
    )
    volunteers.void_service(
        actor=None, volunteer_id=lawyer.id, service_id=voided.id, reason="Logged in error"
    )
    db.session.commit()
    return {"funds": funds, "services": services}


def build(**kwargs):
    kwargs.setdefault("date_from", START)
    kwargs.setdefault("date_to", TODAY)
    return grant_report.build_grant_report(**kwargs)


def test_cash_gifts_reconcile_with_the_gifts_ledger(books):
    report = build()
    ledger = gifts.gift_totals(gifts.GiftFilters(date_from=START, date_to=TODAY))
    (total,) = report.fund_totals()
    assert total.gross_cents == sum(r.gross_cents for r in report.funds) == ledger[0].gross_cents
    assert total.net_cents == ledger[0].net_cents and total.count == ledger[0].count
    assert total.gross_cents == 40_000  # the voided cash gift nets to nothing
    restricted = {r.fund: r.gross_cents for r in report.restriction_totals()}
    assert restricted == {"Unrestricted": 10_000, "Restricted": 30_000}


def test_in_kind_value_is_the_sum_of_the_intakes_at_fair_value(books):
    report = build()
    # 40 socks at 2.50 + 28 soap at 1.25; the reversed drive counts nothing.
    assert report.in_kind_cents == 40 * 250 + 28 * 125
    assert report.in_kind_units == 40 + 28 + 30
    assert sum(r.value_cents for r in report.in_kind) == report.in_kind_cents
    methods = {r.method for r in report.in_kind}
    assert methods == {grant_report.VALUED, grant_report.NOT_VALUED}
    not_valued = [r for r in report.in_kind if r.method == grant_report.NOT_VALUED]
    assert [(r.units, r.value_cents) for r in not_valued] == [(30, 0)]
    assert sum(m.in_kind_cents for m in report.months) == report.in_kind_cents


def test_goods_distributed_per_program_and_the_program_filter(books):
    report = build()
    per_program: dict[str, int] = {}
    for row in report.distributed:
        per_program[row.recipient] = per_program.get(row.recipient, 0) + row.units
    assert per_program == {"Street outreach": 15, "Youth program": 8}
    assert report.distributed_cents == (16 * 250) + (7 * 125)
    youth = build(program_id=program("Youth program").id)
    assert {r.recipient for r in youth.distributed} == {"Youth program"}
    assert youth.distributed_units == 8
    assert youth.program == "Youth program"
    # Services narrow to the program; gifts, goods received and hours stay whole.
    assert youth.services_minutes == 80 and youth.services_count == 1
    assert youth.fund_totals() == report.fund_totals()
    assert youth.in_kind_cents == report.in_kind_cents
    with pytest.raises(InvalidInput):
        build(program_id=program("Safe Passage clinic").id)  # a partner, not a program


def test_volunteer_hours_count_once_and_equal_the_recorded_hours(books):
    report = build()
    recorded = db.session.scalar(
        select(func.sum(VolunteerHours.minutes)).where(
            VolunteerHours.worked_on >= START, VolunteerHours.worked_on <= TODAY
        )
    )
    assert report.hours_minutes == recorded == 180 + 150 + 240
    by_skill = {r.skill: (r.volunteers, r.minutes) for r in report.hours}
    assert by_skill == {"Sorting": (1, 330), "Sorting + Translation": (1, 240)}
    assert report.hours_cents == (330 * 3000 + 30) // 60 + (240 * 3000 + 30) // 60 == 28_500


def test_an_unset_hour_value_shows_no_value(books, organization, treasurer_client):
    update_organization(
        actor=None, legal_name=organization.legal_name, volunteer_hour_value_cents=None
    )
    db.session.commit()
    report = build()
    assert report.hours_cents is None and all(r.value_cents is None for r in report.hours)
    page = treasurer_client.get(f"/reports/grant?date_from={START}&date_to={TODAY}")
    assert page.status_code == 200 and "not set" in page.get_data(as_text=True)


def test_professional_services_by_type_leave_voided_ones_out(books):
    report = build()
    assert report.services_count == 3
    assert report.services_minutes == 150 + 80 + 180
    legal = {r.service_type: r for r in report.services}["Legal"]
    assert legal.value_cents == 150 * 15_000 // 60 + 80 * 12_000 // 60 + 180 * 9_000 // 60
    assert "Medical" not in {r.service_type for r in report.services}
    assert sum(m.minutes for m in report.months) == report.hours_minutes + report.services_minutes


def test_period_edges_are_inclusive(books):
    day = TODAY - timedelta(days=7)  # the distributions' day
    only = build(date_from=day, date_to=day)
    assert only.distributed_units == 23
    before = build(date_from=day - timedelta(days=1), date_to=day - timedelta(days=1))
    after = build(date_from=day + timedelta(days=1), date_to=day + timedelta(days=1))
    assert before.distributed_units == after.distributed_units == 0
    with pytest.raises(InvalidInput):
        build(date_from=TODAY, date_to=TODAY - timedelta(days=1))


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def test_page_csv_and_pdf_carry_the_same_totals(books, treasurer_client):
    report = build()
    query = f"date_from={START}&date_to={TODAY}"
    page = treasurer_client.get(f"/reports/grant?{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and "ASU 2020-07" in html
    rows = _csv(treasurer_client.get(f"/reports/grant.csv?{query}"))
    by_section = {row[0]: row for row in rows}
    assert by_section["Cash gifts total"][7] == "400.00"
    assert by_section["Gifts in kind total"][9] == f"{report.in_kind_cents / 100:.2f}"
    assert by_section["Goods distributed total"][4] == str(report.distributed_units)
    assert by_section["Volunteer hours total"][5] == str(report.hours_minutes)
    assert by_section["Volunteer hours total"][9] == "285.00"
    assert by_section["Professional services total"][5] == str(report.services_minutes)
    assert by_section["Professional services total"][9] == f"{report.services_cents / 100:.2f}"
    pdf = treasurer_client.get(f"/reports/grant.pdf?{query}")
    assert pdf.mimetype == "application/pdf"
    text = _pdf_text(pdf.data)
    for figure in (
        format_money(40_000, "USD"),
        format_money(report.in_kind_cents, "USD"),
        format_money(report.distributed_cents, "USD"),
        format_money(report.hours_cents, "USD"),
        format_money(report.services_cents, "USD"),
        format_minutes(report.hours_minutes),
        format_minutes(report.services_minutes),
    ):
        assert figure in text, figure
        assert figure in html, figure
    # Counts only: no volunteer or donor is named.
    for name in ("Tom Sorter", "Dana Lawyer", "Grant Giver"):
        assert name not in html and name not in text
        assert all(name not in cell for row in rows for cell in row)


def test_bad_dates_and_programs_are_refused_with_a_message(books, treasurer_client):
    page = treasurer_client.get("/reports/grant?date_from=2026-13-01&date_to=2026-12-31")
    assert page.status_code == 400 and "Not a valid date" in page.get_data(as_text=True)
    backwards = treasurer_client.get("/reports/grant?date_from=2026-12-31&date_to=2026-01-01")
    assert backwards.status_code == 400
    assert "The end date is before the start date." in backwards.get_data(as_text=True)
    assert treasurer_client.get("/reports/grant.csv?program=abc").status_code == 400


@pytest.mark.parametrize(("role", "status"), [("staff", 403), ("treasurer", 200), ("admin", 200)])
def test_only_the_books_roles_see_it(books, login, role, status):
    client = login(role)
    for path in ("/reports/grant", "/reports/grant.csv", "/reports/grant.pdf"):
        assert client.get(path).status_code == status


def test_another_organisations_figures_never_appear(books, treasurer_client):
    mine = build()
    other = organizations.create_organization(actor=None, slug="north", legal_name="North Star")
    db.session.commit()
    with use_organization(other.id):
        theirs = volunteers.sign_up_volunteer(
            application=volunteers.Application(
                name="North Lawyer", email="north@example.net", accepted_terms=True
            )
        )
        volunteers.confirm_email(token=volunteers.confirm_token(theirs))
        volunteers.decide_volunteer(actor=None, volunteer_id=theirs.id, decision="approve")
        volunteers.log_hours(actor=None, volunteer_id=theirs.id, worked_on=TODAY, hours="7")
        volunteers.log_service(
            actor=None,
            volunteer_id=theirs.id,
            service_type="legal",
            service_date=TODAY,
            hours="6",
            description="Their clinic",
            program_id=None,
            fair_rate_cents=50_000,
        )
    db.session.commit()
    again = build()
    assert again.hours_minutes == mine.hours_minutes
    assert again.services_minutes == mine.services_minutes
    assert again.services_cents == mine.services_cents
    with use_organization(other.id):
        theirs_report = build()
    assert theirs_report.hours_minutes == 420 and theirs_report.services_minutes == 360
    assert theirs_report.in_kind_cents == 0 and theirs_report.fund_totals() == []


def test_admins_set_the_hour_value_on_the_settings_page(admin_client, organization):
    form = {
        "legal_name": organization.legal_name,
        "default_currency": "USD",
        "fiscal_year_start_month": "1",
        "host": "",
    }
    refused = admin_client.post("/admin/organization", data={**form, "volunteer_hour_value": "abc"})
    assert refused.status_code == 200 and "abc" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(organization), organization.id).volunteer_hour_value_cents is None
    admin_client.post("/admin/organization", data={**form, "volunteer_hour_value": "34.50"})
    db.session.expire_all()
    assert db.session.get(type(organization), organization.id).volunteer_hour_value_cents == 3450
    page = admin_client.get("/admin/organization").get_data(as_text=True)
    assert 'value="34.50"' in page
    admin_client.post("/admin/organization", data={**form, "volunteer_hour_value": ""})
    db.session.expire_all()
    assert db.session.get(type(organization), organization.id).volunteer_hour_value_cents is None
