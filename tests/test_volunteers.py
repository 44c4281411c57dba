"""Volunteers' public pages: sign-up and email confirmation, a second sign-up with the
same email, approval, shifts by the magic link, the confidential address kept off every
listing page, and another organisation's volunteers out of reach."""

from __future__ import annotations

from sqlalchemy import func, select
from volunteers_support import HIDDEN_ADDRESS, OPEN_ADDRESS, link_in, mails

from donations.extensions import db
from donations.models import (
    ShiftSignup,
    SignupStatus,
    Volunteer,
    VolunteerSkill,
    VolunteerStatus,
)
from donations.services import organizations, volunteers
from donations.tenancy import use_organization


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def sign_up_form(**changes) -> dict:
    form = {
        "name": "Grace Hopper",
        "email": "Grace@Example.net",
        "phone": "555 0100",
        "skills": ["Translation", "Driving"],
        "languages": "Spanish, Tagalog",
        "days": ["sat", "sun"],
        "availability": "Weekend mornings",
        "terms": "y",
    }
    form.update(changes)
    return form


def test_the_form_offers_the_default_skills_until_the_list_is_stored(client, admin_client):
    page = client.get("/volunteer").get_data(as_text=True)
    for name, _languages in volunteers.DEFAULT_SKILLS:
        assert f'value="{name}"> <label' in page
    assert "Saturday" in page and "volunteer terms" in page
    assert count(VolunteerSkill) == 0  # showing the form writes nothing
    client.post("/volunteer", data=sign_up_form())
    client.post("/volunteer", data=sign_up_form(email="other@example.net"))
    assert count(VolunteerSkill) == len(volunteers.DEFAULT_SKILLS)  # stored once
    # The admin retires one: the form no longer offers it, and refuses it.
    sorting = db.session.scalar(select(VolunteerSkill).where(VolunteerSkill.name == "Sorting"))
    admin_client.post(f"/volunteers/skills/{sorting.id}/active", data={"active": "0"})
    admin_client.post("/volunteers/skills", data={"name": "Cooking"})
    page = client.get("/volunteer").get_data(as_text=True)
    assert 'value="Sorting"' not in page and 'value="Cooking"' in page
    refused = client.post(
        "/volunteer", data=sign_up_form(email="x@example.net", skills=["Sorting"])
    )
    assert refused.status_code == 400
    assert "Choose skills from the list" in refused.get_data(as_text=True)


def test_sign_up_counts_once_the_email_is_confirmed(client, staff_client):
    response = client.post("/volunteer", data=sign_up_form())
    assert response.status_code == 302
    assert "sent a link to grace@example.net" in client.get("/volunteer").get_data(as_text=True)
    volunteer = db.session.scalar(select(Volunteer))
    assert volunteer.status == VolunteerStatus.UNVERIFIED
    assert volunteer.email == "grace@example.net"
    assert [s.name for s in volunteer.skills] == ["Driving", "Translation"]
    assert volunteer.available_days == "sat sun" and volunteer.terms_accepted_at is not None
    # Not on staff's list until confirmed.
    assert "Grace Hopper" not in staff_client.get("/volunteers/").get_data(as_text=True)
    (message,) = mails("volunteer_confirm")
    assert message.to_addr == "grace@example.net"
    confirm = link_in(message.body_text, "/volunteer/confirm/")
    assert client.get(confirm[:-3] + "xyz").status_code == 404  # a damaged link
    assert client.post(confirm[:-3] + "xyz").status_code == 404
    page = client.get(confirm)  # a page with one button: opening the link changes nothing
    assert page.status_code == 200 and "Confirm my email" in page.get_data(as_text=True)
    db.session.refresh(volunteer)
    assert volunteer.status == VolunteerStatus.UNVERIFIED
    response = client.post(confirm)
    assert response.status_code == 302 and "/volunteer/me/" in response.headers["Location"]
    db.session.refresh(volunteer)
    assert volunteer.status == VolunteerStatus.PENDING and volunteer.email_verified_at
    listed = staff_client.get("/volunteers/?status=pending").get_data(as_text=True)
    assert "Grace Hopper" in listed
    mine = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Staff will review" in mine and "Open shifts" not in mine


def test_the_terms_and_languages_are_required(client):
    response = client.post("/volunteer", data=sign_up_form(terms=""))
    assert response.status_code == 400
    assert "accept the volunteer terms" in response.get_data(as_text=True)
    response = client.post("/volunteer", data=sign_up_form(languages=""))
    assert response.status_code == 400
    assert "which languages" in response.get_data(as_text=True)
    assert count(Volunteer) == 0 and mails() == []


def test_signing_up_twice_duplicates_nothing_and_mails_the_link_again(client):
    first = client.post("/volunteer", data=sign_up_form())
    again = client.post(
        "/volunteer", data=sign_up_form(name="G. Hopper", email="grace@example.net")
    )
    assert first.status_code == again.status_code == 302
    page = client.get("/volunteer").get_data(as_text=True)
    assert "nothing was duplicated" in page
    assert count(Volunteer) == 1
    assert db.session.scalar(select(Volunteer.name)) == "Grace Hopper"  # unchanged
    unconfirmed = mails("volunteer_confirm")
    assert len(unconfirmed) == 2 and "before with this address" in unconfirmed[1].body_text
    # Once confirmed, a third sign-up mails the page link instead.
    client.post(link_in(unconfirmed[0].body_text, "/volunteer/confirm/"))
    client.post("/volunteer", data=sign_up_form())
    (link,) = mails("volunteer_link")
    assert "already signed up" in link.body_text and "/volunteer/me/" in link.body_text
    assert count(Volunteer) == 1


def test_staff_approve_and_the_volunteer_signs_up_by_the_mailed_link(
    client, staff_client, make_volunteer, make_shift
):
    volunteer = make_volunteer("Katherine Johnson", status=VolunteerStatus.PENDING)
    shift = make_shift(capacity=1)
    response = staff_client.post(
        f"/volunteers/{volunteer.id}/decision", data={"decision": "approve"}
    )
    assert response.status_code == 302
    db.session.refresh(volunteer)
    assert volunteer.status == VolunteerStatus.APPROVED and volunteer.decided_by_id
    (approved,) = mails("volunteer_approved", to=volunteer.email)
    mine = link_in(approved.body_text, "/volunteer/me/")
    page = client.get(mine).get_data(as_text=True)
    assert "Open shifts" in page and "Sorting day" in page
    response = client.post(f"{mine}/shifts/{shift.id}/sign-up")
    assert response.status_code == 302
    page = client.get(mine).get_data(as_text=True)
    assert "You are signed up for Sorting day" in page
    signup = db.session.scalar(select(ShiftSignup))
    assert signup.volunteer_id == volunteer.id and signup.status == SignupStatus.SIGNED_UP
    # The shift is full now: a second volunteer is told so, and nothing changes.
    other = make_volunteer()
    theirs = f"/volunteer/me/{volunteers.page_token(other)}"
    assert f"/shifts/{shift.id}/sign-up" not in client.get(theirs).get_data(as_text=True)
    client.post(f"{theirs}/shifts/{shift.id}/sign-up")
    assert "This shift is full" in client.get(theirs).get_data(as_text=True)
    assert count(ShiftSignup) == 1
    # Cancelling frees the place.
    client.post(f"{mine}/shifts/{shift.id}/cancel")
    db.session.refresh(signup)
    assert signup.status == SignupStatus.CANCELLED


def test_a_bad_or_foreign_link_is_not_found(client, make_volunteer):
    volunteer = make_volunteer()
    token = volunteers.page_token(volunteer)
    assert client.get(f"/volunteer/me/{token}").status_code == 200
    assert client.get(f"/volunteer/me/{token[:-2]}xx").status_code == 404
    confirm = volunteers.confirm_token(volunteer)  # another link's kind
    assert client.get(f"/volunteer/me/{confirm}").status_code == 404


def test_a_pending_volunteer_cannot_sign_up_through_the_page(client, make_volunteer, make_shift):
    volunteer = make_volunteer(status=VolunteerStatus.PENDING)
    shift = make_shift()
    mine = f"/volunteer/me/{volunteers.page_token(volunteer)}"
    response = client.post(f"{mine}/shifts/{shift.id}/sign-up")
    assert response.status_code == 302
    assert "Only approved" in client.get(mine).get_data(as_text=True)
    assert count(ShiftSignup) == 0


def test_a_confidential_address_is_on_no_listing_page(
    client, admin_client, make_volunteer, make_shift, volunteer_sites
):
    _warehouse, shelter = volunteer_sites
    hidden = make_shift(site=shelter, capacity=3)
    make_shift()  # at the public warehouse
    signed_up = make_volunteer()
    volunteers.sign_up_for_shift(volunteer=signed_up, shift_id=hidden.id)
    db.session.commit()
    looker = make_volunteer()
    pages = [
        client.get(f"/volunteer/me/{volunteers.page_token(looker)}"),
        client.get(f"/volunteer/me/{volunteers.page_token(signed_up)}"),
        admin_client.get("/volunteers/opportunities"),
        admin_client.get(f"/volunteers/opportunities/{hidden.opportunity_id}"),
        admin_client.get(f"/volunteers/shifts/{hidden.id}"),
        admin_client.get(f"/volunteers/{signed_up.id}"),
        admin_client.get("/volunteers/"),
    ]
    for response in pages:
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "Safe House" in page or response.request.path in (
            "/volunteers/opportunities",
            "/volunteers/",
        )
        assert HIDDEN_ADDRESS not in page
    # Only the signed-up volunteer's own mail has it.
    carrying = [m.to_addr for m in mails() if HIDDEN_ADDRESS in m.body_text]
    assert carrying == [signed_up.email]
    # A public site's address is not a secret, but the listing still keeps to names.
    assert OPEN_ADDRESS not in pages[0].get_data(as_text=True)


def test_another_organisations_volunteers_are_out_of_reach(
    app, client, staff_client, make_volunteer, make_shift, organization
):
    home = make_volunteer("Home Helper")
    shift = make_shift()
    other = organizations.create_organization(actor=None, slug="north", legal_name="North Star")
    db.session.commit()
    with use_organization(other.id):
        theirs = volunteers.sign_up_volunteer(
            application=volunteers.Application(
                name="North Helper", email="north@example.net", accepted_terms=True
            )
        )
        volunteers.confirm_email(token=volunteers.confirm_token(theirs))
        their_token = volunteers.page_token(theirs)
    db.session.commit()
    listed = staff_client.get("/volunteers/").get_data(as_text=True)
    assert "Home Helper" in listed and "North Helper" not in listed
    assert staff_client.get(f"/volunteers/{theirs.id}").status_code == 404
    # Their volunteer's link works at their address only.
    assert client.get(f"/o/north/volunteer/me/{their_token}").status_code == 200
    assert client.get(f"/volunteer/me/{their_token}").status_code == 404
    home_token = volunteers.page_token(home)
    assert client.get(f"/o/north/volunteer/me/{home_token}").status_code == 404
    # A shift of one organisation cannot be signed up for from the other's page.
    with use_organization(other.id):
        volunteers.decide_volunteer(actor=None, volunteer_id=theirs.id, decision="approve")
    db.session.commit()
    client.post(f"/o/north/volunteer/me/{their_token}/shifts/{shift.id}/sign-up")
    assert count(ShiftSignup) == 0
