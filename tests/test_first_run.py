"""What a newcomer sees first: the setup steps, the money at a glance, a donor's gifts, the log."""

from __future__ import annotations

import os
import subprocess
import sys

from donations.extensions import db
from donations.models import PlanStatus, RecurringPlan, Role, utcnow
from donations.services import gifts, giving


def test_a_fresh_install_shows_the_admin_what_to_set_up(admin_client):
    html = admin_client.get("/dashboard").get_data(as_text=True)
    assert "<h1>Dashboard</h1>" in html and "Getting started" in html
    for path in ("/admin/organization", "/admin/funds", "/inventory/sites", "/inventory/catalog"):
        assert f'href="{path}"' in html
    assert "Connect Stripe" in html and "test mode" in html


def test_the_setup_steps_go_once_the_essentials_are_done(
    admin_client, organization, goods, create_user
):
    giving.ensure_default_funds()
    create_user(Role.STAFF)
    db.session.commit()
    html = admin_client.get("/dashboard").get_data(as_text=True)
    assert "Getting started" not in html


def test_treasurers_see_the_year_and_what_needs_them(treasurer_client, organization, create_donor):
    html = treasurer_client.get("/dashboard").get_data(as_text=True)
    assert "Getting started" not in html
    assert f"No gifts received in {utcnow().date().year} yet" in html
    assert 'href="/gifts/new"' in html

    donor = create_donor("Eleanor Whitfield")
    fund = giving.ensure_default_funds()[0]
    gifts.record_offline_gift(
        actor=None,
        donor_id=donor.id,
        fund_id=fund.id,
        method="cheque",
        cheque_number="1042",
        amount_cents=12_000,
        currency="USD",
        received_on=utcnow().date(),
    )
    db.session.add(
        RecurringPlan(
            donor_id=donor.id,
            fund_id=fund.id,
            amount_cents=2_000,
            currency="USD",
            status=PlanStatus.PAST_DUE.value,
        )
    )
    db.session.commit()
    html = treasurer_client.get("/dashboard").get_data(as_text=True)
    assert f"1 gift received in {utcnow().date().year}: $120.00" in html
    assert "1 monthly plan is past due" in html and 'href="/gifts/plans?status=past_due"' in html


def test_a_donors_page_shows_their_gifts(treasurer_client, organization, create_donor):
    donor = create_donor("Mei Chen")
    html = treasurer_client.get(f"/donors/{donor.id}").get_data(as_text=True)
    assert "No gifts received from Mei Chen yet." in html

    fund = giving.ensure_default_funds()[0]
    gift = gifts.record_offline_gift(
        actor=None,
        donor_id=donor.id,
        fund_id=fund.id,
        method="cash",
        amount_cents=6_000,
        currency="USD",
        received_on=utcnow().date(),
    )
    db.session.commit()
    html = treasurer_client.get(f"/donors/{donor.id}").get_data(as_text=True)
    assert "1 gift received: $60.00" in html
    assert f'href="/gifts/{gift.id}"' in html


def test_the_audit_log_filters_by_kind_and_links_to_what_changed(admin_client, create_donor):
    donor = create_donor("Grace Community Church")
    db.session.commit()
    html = admin_client.get("/admin/audit?type=donor").get_data(as_text=True)
    assert f'href="/donors/{donor.id}"' in html
    html = admin_client.get("/admin/audit?type=gift").get_data(as_text=True)
    assert "No changes of this kind yet." in html and "Grace Community Church" not in html


def test_a_refused_page_says_who_is_signed_in(staff_client):
    response = staff_client.get("/gifts/")
    assert response.status_code == 403
    assert "with the <strong>staff</strong> role" in response.get_data(as_text=True)


def test_the_app_starts_without_loading_reportlab_or_stripe(tmp_path):
    """Drawing PDFs and calling Stripe load their libraries on first use, not at start-up."""
    code = (
        "import sys\n"
        "from donations import create_app\n"
        "create_app()\n"
        "print(sorted(m for m in ('reportlab', 'stripe', 'requests') if m in sys.modules))\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        "SECRET_KEY": "test",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
