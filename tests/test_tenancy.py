"""Organisations as tenants: one organisation's rows are invisible to another, unique
keys hold per organisation, and a one-organisation install works as before."""

from __future__ import annotations

from datetime import date

import flask_migrate
import pytest
from sqlalchemy import func, insert, select, text, update

from conftest import base_config, empty_database
from donations import create_app
from donations.extensions import db
from donations.models import (
    Donor,
    Fund,
    Item,
    Organization,
    Receipt,
    ReceiptSequence,
    Recipient,
    Role,
    Site,
    utcnow,
)
from donations.services import catalog, donors, organizations, receipts, recipients
from donations.services import gifts as gift_service
from donations.services.errors import InvalidInput, NotAllowed
from donations.services.keyset import Position
from donations.tenancy import (
    ALL_ORGANIZATIONS,
    HOME_ORGANIZATION_ID,
    current_organization_id,
    use_organization,
)

THIS_YEAR = utcnow().year


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """Return the URL of a new, empty database on the same server."""
    with empty_database(database_url, tmp_path, "tenancy") as url:
        yield url


def _record_cash(*, donor_id: int, fund_id: int, amount_cents: int):
    return gift_service.record_offline_gift(
        actor=None,
        donor_id=donor_id,
        fund_id=fund_id,
        method="cash",
        amount_cents=amount_cents,
        currency="USD",
        received_on=date.today(),
    )


def cash_gift(organization_id: int, **fields: int) -> None:
    """Record and commit a cash gift received today, as ``organization_id``."""
    with use_organization(organization_id):
        _record_cash(**fields)
        db.session.commit()


def seed(marker: str) -> dict:
    """Look-alike data for the current organisation: the same names and codes in each,
    plus one donor whose name says which organisation it belongs to."""
    fund = Fund(name="General")
    db.session.add(fund)
    catalog.seed_catalog()
    site = catalog.create_site(actor=None, name="Main warehouse", kind="warehouse")
    program = recipients.create_recipient(actor=None, kind="program", name="Street outreach")
    twin = donors.create_donor(actor=None, name="Alex Doe", email="alex@example.com")
    own = donors.create_donor(actor=None, name=f"Only in {marker}", email=f"{marker}@example.com")
    db.session.flush()
    gift = _record_cash(donor_id=twin.id, fund_id=fund.id, amount_cents=2500)
    receipt = receipts.issue_gift_receipt(actor=None, gift=gift)
    db.session.commit()
    return {
        "fund": fund.id,
        "site": site.id,
        "program": program.id,
        "twin": twin.id,
        "own": own.id,
        "gift": gift.id,
        "receipt": receipt.id,
        "number": receipt.number,
    }


@pytest.fixture
def two_orgs(app, organization):
    """The home organisation and a second one, each with look-alike data."""
    other = organizations.create_organization(
        actor=None, slug="safe-harbor", legal_name="Safe Harbor Coalition Member"
    )
    db.session.commit()
    home = seed("home")
    with use_organization(other.id):
        theirs = seed("other")
    return home, theirs, other.id


def test_without_a_setting_the_current_organisation_is_the_first(app):
    assert current_organization_id() == HOME_ORGANIZATION_ID
    with use_organization(7):
        assert current_organization_id() == 7
        with use_organization(8):
            assert current_organization_id() == 8
        assert current_organization_id() == 7
    assert current_organization_id() == HOME_ORGANIZATION_ID


def test_each_organisation_sees_only_its_own_rows(two_orgs):
    home, theirs, other_id = two_orgs
    for mine, not_mine, org_id in ((home, theirs, HOME_ORGANIZATION_ID), (theirs, home, other_id)):
        with use_organization(org_id):
            db.session.expire_all()
            names = set(db.session.scalars(select(Donor.name)))
            assert names == {"Alex Doe", f"Only in {'home' if mine is home else 'other'}"}
            assert db.session.get(Donor, not_mine["twin"]) is None
            assert db.session.get(Donor, mine["twin"]) is not None
            assert db.session.scalars(select(Fund.id)).all() == [mine["fund"]]
            assert db.session.scalars(select(Site.id)).all() == [mine["site"]]
            assert db.session.scalars(select(Recipient.id)).all() == [mine["program"]]
            assert db.session.get(Receipt, not_mine["receipt"]) is None
            codes = db.session.scalars(select(Item.code).where(Item.code == "SOAP")).all()
            assert codes == ["SOAP"]  # one SOAP each, both allowed
    # The same names and codes exist once per organisation.
    everyone = (
        select(func.count()).select_from(Donor).execution_options(**{ALL_ORGANIZATIONS: True})
    )
    assert db.session.scalar(everyone) == 4


def test_receipt_numbers_are_a_series_per_organisation(two_orgs):
    home, theirs, other_id = two_orgs
    assert home["number"] == theirs["number"] == f"{THIS_YEAR}-000001"
    with use_organization(other_id):
        sequence = db.session.get(ReceiptSequence, (other_id, False, THIS_YEAR))
        assert sequence.last_number == 1
    assert (
        db.session.get(ReceiptSequence, (HOME_ORGANIZATION_ID, False, THIS_YEAR)).last_number == 1
    )


def test_an_update_or_delete_touches_only_the_current_organisation(two_orgs):
    home, theirs, other_id = two_orgs
    db.session.execute(update(Donor).values(notes="touched"))
    db.session.commit()
    with use_organization(other_id):
        db.session.expire_all()
        assert db.session.get(Donor, theirs["twin"]).notes == ""
    assert db.session.get(Donor, home["twin"]).notes == "touched"


def test_a_core_insert_takes_the_current_organisation(two_orgs):
    _home, _theirs, other_id = two_orgs
    with use_organization(other_id):
        db.session.execute(insert(Donor).values(name="Core insert", email=None))
        db.session.commit()
        assert db.session.scalar(select(Donor.id).where(Donor.name == "Core insert"))
    assert db.session.scalar(select(Donor.id).where(Donor.name == "Core insert")) is None
    org_of = db.session.execute(
        text("SELECT organization_id FROM donors WHERE name = 'Core insert'")
    ).scalar_one()
    assert org_of == other_id


def test_pages_of_the_first_organisation_show_nothing_of_another(two_orgs, login):
    home, theirs, _other_id = two_orgs
    client = login(Role.ADMIN)
    listing = client.get("/donors/").get_data(as_text=True)
    assert "Only in home" in listing and "Only in other" not in listing
    assert client.get(f"/donors/{theirs['own']}").status_code == 404
    assert client.get(f"/donors/{home['own']}").status_code == 200
    assert client.get(f"/receipts/{theirs['receipt']}").status_code == 404


def test_a_second_organisation_needs_the_first_profile_saved(app):
    with pytest.raises(NotAllowed, match="first organisation"):
        organizations.create_organization(actor=None, slug="second", legal_name="Second")
    assert db.session.scalar(select(func.count()).select_from(Organization)) == 0


@pytest.mark.parametrize(
    "slug, message",
    [
        ("Bad Slug", "lower-case letters"),
        ("-edge", "lower-case letters"),
        ("a", "lower-case letters"),
        ("x" * 61, "lower-case letters"),
        ("ünï", "lower-case letters"),
    ],
)
def test_a_slug_must_be_url_safe(organization, slug, message):
    with pytest.raises(InvalidInput, match=message):
        organizations.create_organization(actor=None, slug=slug, legal_name="Second")
    db.session.rollback()
    assert [line.slug for line in organizations.list_organizations()] == [organization.slug]


def test_a_slug_taken_is_refused(organization):
    organizations.create_organization(actor=None, slug="second", legal_name="Second")
    db.session.commit()
    with pytest.raises(InvalidInput, match="already uses"):
        organizations.create_organization(actor=None, slug="Second", legal_name="Another")
    db.session.rollback()
    assert len(organizations.list_organizations()) == 2


def test_the_first_profile_gets_a_slug_from_its_name(organization):
    assert organization.id == HOME_ORGANIZATION_ID
    assert organization.slug == "harbor-light-shelter-inc"


def test_orgs_commands_create_and_list(app, organization):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["orgs", "create", "north-shelter", "--name", "North Shelter"])
    assert made.exit_code == 0, made.output
    bad = runner.invoke(args=["orgs", "create", "North Shelter!", "--name", "X"])
    assert bad.exit_code != 0 and "lower-case letters" in bad.output
    taken = runner.invoke(args=["orgs", "create", "north-shelter", "--name", "Y"])
    assert taken.exit_code != 0 and "already uses" in taken.output
    listed = runner.invoke(args=["orgs", "list"])
    assert listed.exit_code == 0
    lines = listed.output.strip().splitlines()
    assert lines[0].startswith("harbor-light-shelter-inc\tHarbor Light Shelter, Inc.")
    assert lines[1] == "north-shelter\tNorth Shelter"
    assert len(lines) == 2


def test_existing_rows_become_the_first_organisations(empty_database_url, tmp_path):
    app = create_app(base_config(empty_database_url, tmp_path))
    with app.app_context():
        flask_migrate.upgrade(revision="0022_partner_requests")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO organization (id, legal_name, tax_id, address_line1, "
                    "address_line2, city, region, postal_code, country, phone, email, website, "
                    "signatory_name, signatory_title, receipt_footer, default_currency, "
                    "fiscal_year_start_month, require_two_factor, case_code_pattern, updated_at) "
                    "VALUES (1, 'Harbor Light Shelter, Inc.', '', '', '', '', '', '', '', '', "
                    "'', '', '', '', '', 'USD', 1, false, '', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO recipients (id, kind, name, contact, active, created_at) "
                    "VALUES (7, 'partner', 'Clinic', '', true, CURRENT_TIMESTAMP)"
                )
            )
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT slug FROM organization")).scalar_one() == (
                "harbor-light-shelter-inc"
            )
            assert conn.execute(text("SELECT organization_id FROM recipients")).scalar_one() == 1
        # No default any more: a row that does not say its organisation is refused.
        with pytest.raises(Exception), db.engine.begin() as conn:  # noqa: B017
            conn.execute(
                text(
                    "INSERT INTO recipients (kind, name, contact, active, created_at) "
                    "VALUES ('partner', 'Other', '', true, CURRENT_TIMESTAMP)"
                )
            )
        flask_migrate.downgrade(revision="0022_partner_requests")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM recipients")).scalar_one() == 1
        flask_migrate.downgrade(revision="base")
        db.engine.dispose()


def test_exports_and_the_stock_page_hold_only_the_current_organisation(two_orgs):
    """These read past the ORM (on the connection or the driver) and scope themselves."""
    from donations.services import inventory
    from donations.services.exports.gifts import gift_csv
    from donations.services.gifts.listing import GiftFilters
    from donations.services.inventory_files.exports import ledger_csv
    from donations.services.stock_page import stock_filters, stock_page

    home, theirs, other_id = two_orgs
    soap = {}
    for org_id, seeded, quantity in ((HOME_ORGANIZATION_ID, home, 5), (other_id, theirs, 9)):
        with use_organization(org_id):
            soap[org_id] = db.session.scalar(select(Item.id).where(Item.code == "SOAP"))
            inventory.record_intake(
                actor=None,
                site_id=seeded["site"],
                effective_date=date.today(),
                source="anonymous",
                lines=[inventory.Line(soap[org_id], quantity, "new")],
            )
            db.session.commit()
    for org_id, mine, not_mine, held in (
        (HOME_ORGANIZATION_ID, home, theirs, 5),
        (other_id, theirs, home, 9),
    ):
        with use_organization(org_id):
            gifts = "".join(gift_csv(GiftFilters(status="")))
            assert f",{mine['gift']}," in gifts and f",{not_mine['gift']}," not in gifts
            ledger = "".join(ledger_csv()).splitlines()
            assert len(ledger) == 2 and f",{held}," in ledger[1]
            sites, categories = stock_filters()
            assert [site.id for site in sites] == [mine["site"]]
            assert len(categories) == len(set(name for _id, name in categories))
            page = stock_page(
                text="soap",
                category_id=None,
                site_ids=[mine["site"]],
                show="",
                position=Position(),
                per_page=50,
            )
            assert [row.item_id for row in page.items] == [soap[org_id]]
            assert page.items[0].total == held


def test_an_organisation_can_be_added_after_the_migration(empty_database_url, tmp_path):
    """The first row had id 1 given outright; the next one created takes id 2 (on PostgreSQL
    the id sequence was moved past it)."""
    app = create_app(base_config(empty_database_url, tmp_path))
    with app.app_context():
        flask_migrate.upgrade(revision="0022_partner_requests")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO organization (id, legal_name, tax_id, address_line1, "
                    "address_line2, city, region, postal_code, country, phone, email, website, "
                    "signatory_name, signatory_title, receipt_footer, default_currency, "
                    "fiscal_year_start_month, require_two_factor, case_code_pattern, updated_at) "
                    "VALUES (1, 'Harbor Light', '', '', '', '', '', '', '', '', "
                    "'', '', '', '', '', 'USD', 1, false, '', CURRENT_TIMESTAMP)"
                )
            )
        flask_migrate.upgrade()
        made = organizations.create_organization(actor=None, slug="north", legal_name="North")
        db.session.commit()
        assert made.id == 2
        db.session.remove()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the reason and exits
            flask_migrate.downgrade(revision="0022_partner_requests")
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM organization WHERE id = 2"))
        flask_migrate.downgrade(revision="base")
        db.engine.dispose()


def test_report_totals_hold_only_the_current_organisations_gifts(two_orgs, login):
    """The summary rows carry no organisation: the reads filter by its funds and donors."""
    from donations.services.summaries import money_sums
    from donations.services.summaries.periods import cover

    home, theirs, other_id = two_orgs
    cash_gift(other_id, donor_id=theirs["own"], fund_id=theirs["fund"], amount_cents=77_700)
    today = date.today()
    for org_id, gross in ((HOME_ORGANIZATION_ID, 2500), (other_id, 80_200)):
        with use_organization(org_id):
            rows = money_sums(cover(today, today), by="fund_id")
            assert [(row[0], row[3]) for row in rows] == [
                ((home if org_id == HOME_ORGANIZATION_ID else theirs)["fund"], gross)
            ]
    page = login(Role.TREASURER).get("/reports/").get_data(as_text=True)
    assert "777.00" not in page and "802.00" not in page


def test_outgoing_mail_and_the_audit_log_show_only_the_current_organisations(two_orgs, login):
    """Each message and audit event says whose it is; sending still covers everyone's."""
    from donations.jobs.mail_worker import deliver_due
    from donations.models import MailStatus, OutboxMessage
    from donations.services.mail import queue_mail

    _home, _theirs, other_id = two_orgs
    with use_organization(other_id):
        other_message = queue_mail(
            kind="test", to="north@example.org", subject="North news", body_text="Hello"
        )
        db.session.commit()
    queue_mail(kind="test", to="home@example.org", subject="Home news", body_text="Hello")
    db.session.commit()
    admin = login(Role.ADMIN)
    mail_page = admin.get("/admin/mail").get_data(as_text=True)
    assert "Home news" in mail_page and "North news" not in mail_page
    assert admin.get(f"/admin/mail/{other_message.id}").status_code == 404
    audit_page = admin.get("/admin/audit").get_data(as_text=True)
    assert "Only in home" in audit_page and "Only in other" not in audit_page
    # The worker sends every organisation's mail.
    deliver_due()
    statuses = db.session.execute(
        select(OutboxMessage.subject, OutboxMessage.status).execution_options(
            **{ALL_ORGANIZATIONS: True}
        )
    ).all()
    assert {subject: status for subject, status in statuses if "news" in subject} == {
        "Home news": MailStatus.SENT,
        "North news": MailStatus.SENT,
    }


def test_archiving_refuses_open_monthly_gifts_and_the_first_organisation(two_orgs, app):
    from donations.models import RecurringPlan

    home, theirs, other_id = two_orgs
    runner = app.test_cli_runner()
    first = runner.invoke(args=["orgs", "archive", "harbor-light-shelter-inc"])
    assert first.exit_code != 0 and "cannot be archived" in first.output
    unknown = runner.invoke(args=["orgs", "archive", "nowhere"])
    assert unknown.exit_code != 0 and "No organisation" in unknown.output
    with use_organization(other_id):
        plan = RecurringPlan(
            donor_id=theirs["twin"],
            fund_id=theirs["fund"],
            amount_cents=2000,
            currency="USD",
            status="active",
        )
        db.session.add(plan)
        db.session.commit()
    refused = runner.invoke(args=["orgs", "archive", "safe-harbor"])
    assert refused.exit_code != 0 and "1 monthly gift still running" in refused.output
    assert db.session.get(Organization, other_id).archived_at is None
    with use_organization(other_id):
        plan = db.session.get(RecurringPlan, plan.id)
        plan.status = "cancelled"
        db.session.commit()
    done = runner.invoke(args=["orgs", "archive", "safe-harbor"])
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert db.session.get(Organization, other_id).archived_at is not None
    again = runner.invoke(args=["orgs", "archive", "safe-harbor"])
    assert again.exit_code != 0 and "already archived" in again.output
    listed = runner.invoke(args=["orgs", "list"]).output
    assert "safe-harbor\tSafe Harbor Coalition Member\t(archived)" in listed
    assert home["fund"]  # the first organisation's rows are untouched


def test_donor_counts_and_retention_count_each_organisations_donors(two_orgs):
    from donations.services import summaries

    _home, theirs, other_id = two_orgs
    cash_gift(other_id, donor_id=theirs["own"], fund_id=theirs["fund"], amount_cents=1000)
    today = date.today()
    for org_id, expected in ((HOME_ORGANIZATION_ID, 1), (other_id, 2)):
        with use_organization(org_id):
            assert summaries.donors_in(today, today) == expected
            assert summaries.first_timers(today, today) == expected
            this_year, _last_year = summaries.year_counts(today.year)
            assert (this_year.donors, this_year.new) == (expected, expected)
    assert summaries.verify_money() == []
    summaries.rebuild_all()
    db.session.commit()
    assert summaries.verify_money() == []
    with use_organization(other_id):
        assert summaries.donors_in(today, today) == 2
