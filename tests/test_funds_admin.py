"""Admin screens for cash giving: funds and the donation page settings."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import AuditEvent, Fund, GivingSettings, Role
from donations.services import funds as fund_service
from donations.services import giving
from donations.services.errors import InvalidInput

ROUTES = [
    ("GET", "/admin/funds"),
    ("GET", "/admin/funds/new"),
    ("POST", "/admin/funds/new"),
    ("GET", "/admin/funds/{fund_id}/edit"),
    ("POST", "/admin/funds/{fund_id}/edit"),
    ("GET", "/admin/giving"),
    ("POST", "/admin/giving"),
]


@pytest.fixture
def funds(app) -> dict[str, Fund]:
    created = giving.ensure_default_funds()
    db.session.commit()
    return {fund.name: fund for fund in created}


def fund_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Fund))


def audit_events(object_type: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.object_type == object_type)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def reload(model, object_id):
    return db.session.get(model, object_id, populate_existing=True)


def fund_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Winter coats",
        "description": "Coats and boots for the cold months.",
        "is_restricted": "y",
        "active": "y",
        "sort_order": "5",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def settings_form(**overrides: str) -> dict[str, str]:
    data = {
        "preset_amounts": "10, 35.50, 75",
        "min_amount": "10",
        "max_amount": "5,000",
        "fee_percent": "3.5",
        "fee_fixed": "0.25",
        "impact_text": "  Every $35.50 buys a night of safety.  ",
        "default_fund": "",
    }
    data.update(overrides)
    return data


# --- access --------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("role", [Role.STAFF, Role.TREASURER])
def test_only_admins_reach_the_giving_admin(login, funds, method, path, role):
    client = login(role)
    url = path.format(fund_id=funds["General"].id)
    response = client.get(url) if method == "GET" else client.post(url, data=fund_form())
    assert response.status_code == 403
    assert fund_count() == 3
    assert db.session.get(GivingSettings, 1) is None


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_visitors_are_sent_to_sign_in(client, funds, method, path):
    url = path.format(fund_id=funds["General"].id)
    response = client.get(url) if method == "GET" else client.post(url, data={})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# --- funds ---------------------------------------------------------------


def test_list_shows_funds_in_order_with_their_state(admin_client, funds):
    funds["Survivor services"].active = False
    db.session.commit()
    html = admin_client.get("/admin/funds").get_data(as_text=True)
    assert "<h1>Funds</h1>" in html
    positions = [html.index(name) for name in ("General", "Shelter operations", "Survivor")]
    assert positions == sorted(positions)
    assert "Restricted" in html and "Unrestricted" in html
    assert "Inactive" in html
    assert 'href="/admin/funds/new"' in html
    assert f'href="/admin/funds/{funds["General"].id}/edit"' in html
    assert 'href="/admin/giving"' in html


def test_list_without_funds_says_the_page_is_closed(admin_client):
    html = admin_client.get("/admin/funds").get_data(as_text=True)
    assert "No funds yet" in html


def test_create_fund_saves_audits_and_shows_on_the_donation_page(admin_client, client, funds):
    response = admin_client.post("/admin/funds/new", data=fund_form(name="  Winter coats "))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/funds")
    fund = db.session.scalars(select(Fund).where(Fund.name == "Winter coats")).one()
    assert fund.description == "Coats and boots for the cold months."
    assert (fund.is_restricted, fund.active, fund.sort_order) == (True, True, 5)
    [event] = audit_events("fund")
    assert event.action == "fund.create"
    assert event.object_id == str(fund.id)
    assert event.actor_email == admin_client.user.email

    html = client.get("/give").get_data(as_text=True)
    assert "Winter coats" in html
    assert "Coats and boots for the cold months." in html


def test_new_fund_form_starts_active(admin_client):
    html = admin_client.get("/admin/funds/new").get_data(as_text=True)
    assert "<h1>Add a fund</h1>" in html
    assert 'checked id="active"' in html
    assert 'id="is_restricted" name="is_restricted" type="checkbox" value="y">' in html


@pytest.mark.parametrize("name", ["General", "general", "  GENERAL "])
def test_a_duplicate_fund_name_is_refused_with_input_kept(admin_client, funds, name):
    response = admin_client.post("/admin/funds/new", data=fund_form(name=name))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "There is already a fund called" in html
    assert 'value="5"' in html
    assert "Coats and boots for the cold months." in html
    assert fund_count() == 3
    assert audit_events("fund") == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "   "}, "Enter the fund&#39;s name."),
        ({"name": "x" * 101}, "Field cannot be longer than 100 characters."),
        ({"description": "x" * 501}, "Field cannot be longer than 500 characters."),
        ({"sort_order": "-1"}, "Number must be between 0 and 9999."),
        ({"sort_order": "first"}, "Not a valid integer value."),
    ],
)
def test_bad_fund_input_is_refused(admin_client, overrides, message):
    response = admin_client.post("/admin/funds/new", data=fund_form(**overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert fund_count() == 0


def test_edit_fund_changes_and_audits(admin_client, client, funds):
    fund = funds["Survivor services"]
    url = f"/admin/funds/{fund.id}/edit"
    html = admin_client.get(url).get_data(as_text=True)
    assert 'value="Survivor services"' in html
    assert "Counselling, legal help" in html

    response = admin_client.post(
        url,
        data=fund_form(
            name="Survivor care", description="Counselling.", is_restricted=None, active=None
        ),
    )
    assert response.status_code == 302
    fund = reload(Fund, fund.id)
    assert (fund.name, fund.description, fund.is_restricted, fund.active, fund.sort_order) == (
        "Survivor care",
        "Counselling.",
        False,
        False,
        5,
    )
    [event] = audit_events("fund")
    assert event.action == "fund.update"
    assert "name: Survivor services -> Survivor care" in event.summary
    assert "active: yes -> no" in event.summary

    html = client.get("/give").get_data(as_text=True)
    assert "Survivor care" not in html  # inactive funds are not offered
    assert "Survivor services" not in html

    html = admin_client.get(url).get_data(as_text=True)
    assert "fund.update" in html  # the fund's history


def test_saving_a_fund_unchanged_records_nothing(admin_client, funds):
    fund = funds["General"]
    response = admin_client.post(
        f"/admin/funds/{fund.id}/edit",
        data=fund_form(
            name="General",
            description=fund.description,
            is_restricted=None,
            sort_order=str(fund.sort_order),
        ),
    )
    assert response.status_code == 302
    assert audit_events("fund") == []


def test_renaming_to_another_funds_name_is_refused(admin_client, funds):
    fund = funds["General"]
    response = admin_client.post(
        f"/admin/funds/{fund.id}/edit", data=fund_form(name="shelter operations")
    )
    assert response.status_code == 200
    assert "There is already a fund called shelter operations." in response.get_data(as_text=True)
    assert reload(Fund, fund.id).name == "General"


def test_editing_a_missing_fund_is_not_found(admin_client):
    assert admin_client.get("/admin/funds/999999/edit").status_code == 404
    assert admin_client.get("/admin/funds/99999999999/edit").status_code == 404


# --- donation page settings ------------------------------------------------


def test_settings_form_shows_the_defaults(admin_client, funds):
    html = admin_client.get("/admin/giving").get_data(as_text=True)
    assert "<h1>Donation page settings</h1>" in html
    assert 'value="25, 50, 100, 250"' in html
    assert 'value="5"' in html
    assert 'value="25000"' in html
    assert 'value="2.9"' in html
    assert 'value="0.30"' in html
    assert "The first fund in the list" in html
    for name in funds:
        assert name in html


def test_saving_settings_changes_the_donation_page(admin_client, client, funds):
    survivor = funds["Survivor services"]
    response = admin_client.post("/admin/giving", data=settings_form(default_fund=str(survivor.id)))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/giving")
    settings = reload(GivingSettings, 1)
    assert settings.preset_amounts == "1000,3550,7500"
    assert (settings.min_amount_cents, settings.max_amount_cents) == (1000, 500_000)
    assert (settings.fee_percent_bp, settings.fee_fixed_cents) == (350, 25)
    assert settings.impact_text == "Every $35.50 buys a night of safety."
    assert settings.default_fund_id == survivor.id
    [event] = audit_events("giving_settings")
    assert event.action == "giving_settings.create"
    assert event.actor_email == admin_client.user.email

    html = client.get("/give").get_data(as_text=True)
    for label in ("$10", "$35.50", "$75"):
        assert f">{label}</label>" in html
    assert ">$25</label>" not in html
    assert "Add 3.5% + $0.25 to cover the card fee" in html
    assert "Every $35.50 buys a night of safety." in html
    assert "From $10 to $5,000." in html
    assert 'checked id="fund-2"' in html  # Survivor services is chosen at first

    html = client.post(
        "/give",
        data={
            "amount": "other",
            "other_amount": "9.99",
            "frequency": "one_time",
            "fund": str(survivor.id),
            "name": "Ann Lee",
            "email": "ann@example.com",
        },
    ).get_data(as_text=True)
    assert "The smallest gift we can take online is $10.00." in html

    html = admin_client.get("/admin/giving").get_data(as_text=True)
    assert 'value="10, 35.50, 75"' in html
    assert 'value="3.5"' in html
    assert "giving_settings.create" in html


def test_saving_settings_again_audits_the_changes(admin_client, funds):
    admin_client.post("/admin/giving", data=settings_form())
    admin_client.post("/admin/giving", data=settings_form(fee_percent="2.2", fee_fixed="0"))
    settings = reload(GivingSettings, 1)
    assert (settings.fee_percent_bp, settings.fee_fixed_cents) == (220, 0)
    events = audit_events("giving_settings")
    assert [e.action for e in events] == ["giving_settings.create", "giving_settings.update"]
    assert "fee_percent_bp: 350 -> 220" in events[1].summary
    assert "fee_fixed_cents: 25 -> 0" in events[1].summary


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"min_amount": "50", "max_amount": "50"}, "The maximum must be more than the minimum."),
        ({"min_amount": "100", "max_amount": "20"}, "The maximum must be more than the minimum."),
        ({"min_amount": "0"}, "Enter an amount greater than zero."),
        ({"min_amount": "ten"}, "Enter the amount as a number, such as 50 or 50.00."),
        ({"max_amount": "5000.001"}, "Use at most 2 decimal places."),
        ({"preset_amounts": "5, 50"}, "$5.00 is outside the minimum and maximum"),
        ({"preset_amounts": "50, 6000"}, "$6,000.00 is outside the minimum and maximum"),
        ({"preset_amounts": "25, abc"}, "abc: Enter the amount as a number"),
        ({"preset_amounts": "10 20 30 40 50 60 70 80 90"}, "Offer at most 8 amounts."),
        ({"fee_percent": "50.01"}, "Enter a percentage from 0 to 50."),
        ({"fee_percent": "-1"}, "Enter a percentage from 0 to 50."),
        ({"fee_percent": "two"}, "Enter the percentage as a number, such as 2.9."),
        ({"fee_percent": "2.955"}, "Use at most two decimal places."),
        ({"fee_percent": "NaN"}, "Enter a percentage from 0 to 50."),
        ({"fee_fixed": "-0.30"}, "Enter zero or more, such as 0.30."),
        ({"fee_fixed": ""}, "Enter the fixed part, such as 0.30."),
        ({"impact_text": "x" * 1001}, "Field cannot be longer than 1000 characters."),
        ({"default_fund": "999999"}, "Choose an active fund."),
    ],
)
def test_bad_settings_are_refused_with_input_kept(admin_client, funds, overrides, message):
    data = settings_form(**overrides)
    response = admin_client.post("/admin/giving", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    for name in ("preset_amounts", "min_amount", "max_amount", "fee_percent", "fee_fixed"):
        assert f'value="{data[name]}"' in html
    assert db.session.get(GivingSettings, 1) is None
    assert audit_events("giving_settings") == []


def test_an_inactive_default_fund_is_refused(admin_client, funds):
    closed = funds["Shelter operations"]
    closed.active = False
    db.session.commit()
    response = admin_client.post("/admin/giving", data=settings_form(default_fund=str(closed.id)))
    assert "Choose an active fund." in response.get_data(as_text=True)
    assert db.session.get(GivingSettings, 1) is None


def test_every_field_with_a_problem_is_marked_at_once(admin_client, funds):
    html = admin_client.post(
        "/admin/giving",
        data=settings_form(min_amount="x", fee_percent="y", fee_fixed="z"),
    ).get_data(as_text=True)
    assert html.count('aria-invalid="true"') == 3


# --- the service, directly ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "basis_points"),
    [("2.9", 290), ("2.9 %", 290), ("1.15", 115), ("0", 0), ("50", 5000), ("0.01", 1)],
)
def test_percentages_become_basis_points_exactly(text, basis_points):
    assert fund_service.percent_to_basis_points(text) == basis_points
    assert fund_service.percent_to_basis_points(
        fund_service.basis_points_to_percent(basis_points)
    ) == (basis_points)


def test_basis_points_read_back_without_exponents():
    assert fund_service.basis_points_to_percent(1000) == "10"
    assert fund_service.basis_points_to_percent(290) == "2.9"
    assert fund_service.basis_points_to_percent(0) == "0"


def test_create_fund_refuses_a_duplicate_name_directly(app, funds):
    with pytest.raises(InvalidInput) as caught:
        fund_service.create_fund(actor=None, name="GENERAL")
    assert caught.value.field == "name"


def test_update_giving_settings_refuses_presets_outside_the_limits(app):
    with pytest.raises(InvalidInput) as caught:
        fund_service.update_giving_settings(
            actor=None,
            preset_amounts=[100],
            min_amount_cents=500,
            max_amount_cents=1000,
            fee_percent_bp=290,
            fee_fixed_cents=30,
            impact_text="",
            default_fund_id=None,
        )
    assert caught.value.field == "preset_amounts"
    assert db.session.get(GivingSettings, 1) is None
