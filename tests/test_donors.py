"""The donors area: list, create, edit, detail, merge, and the staff name lookup."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from conftest import sign_in
from donations.extensions import db
from donations.models import AuditEvent, Donor, Role
from donations.services import donors as donor_service
from donations.services.errors import InvalidInput

SECRET_EMAIL = "zelda.secret@example.com"
SECRET_STREET = "742 Evergreen Terrace"
SECRET_CITY = "Shelbyville"
SECRET_NOTES = "Prefers calls after six, never on Sundays"


def donor_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Donor))


def events(action: str, donor_id: int) -> list[AuditEvent]:
    query = select(AuditEvent).where(
        AuditEvent.action == action,
        AuditEvent.object_type == "donor",
        AuditEvent.object_id == str(donor_id),
    )
    return list(db.session.scalars(query))


def reload(donor_id: int) -> Donor:
    return db.session.get(Donor, donor_id, populate_existing=True)


def donor_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Eleanor Whitfield",
        "email": "eleanor@example.com",
        "address_line1": "18 Maple Row",
        "address_line2": "",
        "city": "Springfield",
        "region": "IL",
        "postal_code": "62704",
        "country": "United States",
        "notes": "",
    }
    data.update(overrides)
    return data


# --- list ----------------------------------------------------------------


def test_list_searches_name_and_email_ignoring_case(treasurer_client, create_donor):
    create_donor("Eleanor Whitfield", email="ew@example.com")
    create_donor("Marcus Johnson", email="marcus.j@example.net")

    by_name = treasurer_client.get("/donors/?q=WHITField").get_data(as_text=True)
    assert "Eleanor Whitfield" in by_name
    assert "Marcus Johnson" not in by_name

    by_email = treasurer_client.get("/donors/?q=MARCUS.J@Example").get_data(as_text=True)
    assert "Marcus Johnson" in by_email
    assert "Eleanor Whitfield" not in by_email


def test_list_shows_columns_and_links_to_detail(admin_client, create_donor):
    donor = create_donor(
        "Grace Church", email="grace@example.org", city="Chatham", is_organization=True
    )
    html = admin_client.get("/donors/").get_data(as_text=True)
    assert f'href="/donors/{donor.id}"' in html
    assert "grace@example.org" in html
    assert "Chatham" in html
    assert "Organisation" in html
    assert 'href="/donors/new"' in html


def test_list_pages_and_keeps_the_search(app, treasurer_client, create_donor):
    app.config["DONORS_PER_PAGE"] = 2
    for letter in "ABCDE":
        create_donor(f"Donor {letter}")
    create_donor("Someone Else")

    first = treasurer_client.get("/donors/?q=donor").get_data(as_text=True)
    assert "Donor A" in first and "Donor B" in first
    assert "Donor C" not in first
    following = re.search(r'<a href="([^"]+)" rel="next"', first)
    assert following and "q=donor" in following.group(1)

    second = treasurer_client.get(unescape(following.group(1))).get_data(as_text=True)
    assert "Donor C" in second and "Donor D" in second
    assert "Donor A" not in second and "Donor E" not in second
    assert "Someone Else" not in second
    third = treasurer_client.get(
        unescape(re.search(r'<a href="([^"]+)" rel="next"', second).group(1))
    ).get_data(as_text=True)
    assert "Donor E" in third and "Donor D" not in third
    assert 'rel="next"' not in third and 'rel="prev"' in third


def test_list_empty_states_say_what_to_do(treasurer_client, create_donor):
    html = treasurer_client.get("/donors/").get_data(as_text=True)
    assert "No donors yet" in html
    assert "add the first one" in html

    create_donor("Eleanor Whitfield")
    html = treasurer_client.get("/donors/?q=nobody-like-this").get_data(as_text=True)
    assert "No donor matches" in html
    assert "nobody-like-this" in html
    assert "Eleanor Whitfield" not in html


# --- create --------------------------------------------------------------


def test_create_donor_saves_and_audits(treasurer_client):
    response = treasurer_client.post(
        "/donors/new", data=donor_form(name="  Eleanor Whitfield ", prefers_anonymous="y")
    )
    assert response.status_code == 302
    donor = db.session.scalars(select(Donor)).one()
    assert response.headers["Location"].endswith(f"/donors/{donor.id}")
    assert donor.name == "Eleanor Whitfield"
    assert donor.email == "eleanor@example.com"
    assert donor.city == "Springfield"
    assert donor.prefers_anonymous is True
    assert donor.is_organization is False
    [event] = events("donor.create", donor.id)
    assert event.actor_email == treasurer_client.user.email


def test_create_without_name_shows_error_and_keeps_input(treasurer_client):
    response = treasurer_client.post(
        "/donors/new", data=donor_form(name="   ", email="kept@example.com")
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Enter the donor&#39;s name." in html
    assert 'value="kept@example.com"' in html
    assert 'value="18 Maple Row"' in html
    assert donor_count() == 0


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("name", 200),
        ("email", 254),
        ("address_line1", 200),
        ("city", 100),
        ("region", 100),
        ("postal_code", 20),
        ("country", 100),
        ("notes", 5000),
    ],
)
def test_overlong_input_is_refused_not_truncated(treasurer_client, field, limit):
    value = "x" * (limit + 1)
    if field == "email":
        value = "a" * (limit - len("@example.com") + 1) + "@example.com"
    response = treasurer_client.post("/donors/new", data=donor_form(**{field: value}))
    assert response.status_code == 200
    assert f"longer than {limit} characters" in response.get_data(as_text=True)
    assert donor_count() == 0


def test_name_of_exactly_200_characters_is_accepted(treasurer_client):
    response = treasurer_client.post("/donors/new", data=donor_form(name="n" * 200))
    assert response.status_code == 302
    assert db.session.scalars(select(Donor)).one().name == "n" * 200


def test_bad_email_is_refused(treasurer_client):
    response = treasurer_client.post("/donors/new", data=donor_form(email="not-an-email"))
    assert response.status_code == 200
    assert "Invalid email address" in response.get_data(as_text=True)
    assert donor_count() == 0


def test_service_refuses_overlong_values_too(app):
    with pytest.raises(InvalidInput) as caught:
        donor_service.create_donor(actor=None, name="n" * 201)
    assert caught.value.field == "name"
    with pytest.raises(InvalidInput):
        donor_service.create_donor(actor=None, name="Ok", postal_code="1" * 21)


# --- edit ----------------------------------------------------------------


def test_edit_changes_donor_and_audits_the_field(treasurer_client, create_donor):
    donor = create_donor("Eleanor Whitfield", city="Springfield")
    page = treasurer_client.get(f"/donors/{donor.id}/edit").get_data(as_text=True)
    assert 'value="Eleanor Whitfield"' in page

    response = treasurer_client.post(
        f"/donors/{donor.id}/edit",
        data=donor_form(name="Eleanor Whitfield", email=donor.email, city="Chatham"),
    )
    assert response.status_code == 302
    assert reload(donor.id).city == "Chatham"
    [event] = events("donor.update", donor.id)
    assert "city" in event.summary
    assert "Chatham" in event.summary
    assert event.actor_email == treasurer_client.user.email


def test_notes_change_is_audited_without_its_text(admin_client, create_donor):
    donor = create_donor("Eleanor Whitfield", notes="old note")
    response = admin_client.post(
        f"/donors/{donor.id}/edit",
        data=donor_form(name=donor.name, email=donor.email, notes=SECRET_NOTES),
    )
    assert response.status_code == 302
    assert reload(donor.id).notes == SECRET_NOTES
    [event] = events("donor.update", donor.id)
    assert "notes changed" in event.summary
    assert SECRET_NOTES not in event.summary
    assert "old note" not in event.summary


def test_edit_with_blank_name_changes_nothing(treasurer_client, create_donor):
    donor = create_donor("Eleanor Whitfield")
    response = treasurer_client.post(
        f"/donors/{donor.id}/edit", data=donor_form(name="", city="Elsewhere")
    )
    assert response.status_code == 200
    assert "Enter the donor&#39;s name." in response.get_data(as_text=True)
    assert reload(donor.id).name == "Eleanor Whitfield"
    assert events("donor.update", donor.id) == []


def test_editing_a_merged_donor_goes_to_the_kept_record(treasurer_client, create_donor):
    kept, gone = create_donor("Kept"), create_donor("Gone")
    donor_service.merge_donors(actor=None, source=gone, target=kept)
    db.session.commit()

    response = treasurer_client.post(f"/donors/{gone.id}/edit", data=donor_form(name="Renamed"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/donors/{kept.id}/edit")
    assert reload(gone.id).name == "Gone"
    page = treasurer_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Donor #{gone.id} was merged into this record." in page


# --- detail --------------------------------------------------------------


def test_detail_shows_everything_and_history(treasurer_client, create_donor):
    donor = create_donor(
        "Mei Chen",
        email="mei@example.com",
        address_line1="55 Elm Ave",
        address_line2="Apt 3B",
        city="Springfield",
        region="IL",
        postal_code="62702",
        notes="First line\nSecond line",
    )
    html = treasurer_client.get(f"/donors/{donor.id}").get_data(as_text=True)
    assert "<h1>Mei Chen</h1>" in html
    for text in ("mei@example.com", "55 Elm Ave", "Apt 3B", "Springfield IL 62702"):
        assert text in html
    assert "First line<br>Second line" in html
    assert "donor.create" in html
    assert f'href="/donors/{donor.id}/edit"' in html
    assert f'href="/donors/{donor.id}/merge"' in html


@pytest.mark.parametrize("donor_id", ["9999", "99999999999999999999"])
def test_unknown_donor_is_404(treasurer_client, donor_id):
    assert treasurer_client.get(f"/donors/{donor_id}").status_code == 404
    assert treasurer_client.get(f"/donors/{donor_id}/edit").status_code == 404
    assert treasurer_client.get(f"/donors/{donor_id}/merge").status_code == 404


# --- merge ---------------------------------------------------------------


@pytest.fixture
def trio(create_donor):
    """A and B are the same person; C was merged into A earlier."""
    a = create_donor(
        "Pat Smith",
        email="pat@example.com",
        address_line1="1 Old Road",
        city="Chatham",
        notes="Note from A",
    )
    b = create_donor("Patricia Smith", email=None, city="", notes="Note from B")
    c = create_donor("P. Smith", email="p.smith@example.com")
    donor_service.merge_donors(actor=None, source=c, target=a)
    db.session.commit()
    return a.id, b.id, c.id


def test_merge_moves_everything_fills_blanks_and_audits(treasurer_client, trio):
    a, b, c = trio
    response = treasurer_client.post(f"/donors/{b}/merge", data={"other_id": str(a)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/donors/{b}")

    source, target, earlier = reload(a), reload(b), reload(c)
    assert source.merged_into_id == b
    assert source.merged_at is not None
    assert earlier.merged_into_id == b
    assert target.merged_into_id is None
    assert target.name == "Patricia Smith"
    assert target.email == "pat@example.com"
    assert target.address_line1 == "1 Old Road"
    assert target.city == "Chatham"
    assert "Note from A" in target.notes and "Note from B" in target.notes

    actor = treasurer_client.user.email
    [merge] = events("donor.merge", b)
    assert merge.actor_email == actor
    assert f"#{a}" in merge.summary
    [away] = events("donor.merged_away", a)
    assert away.actor_email == actor

    page = treasurer_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Merged donor" in page
    assert "donor.merge" in page


def test_merged_donor_redirects_and_leaves_the_list(treasurer_client, trio):
    a, b, _c = trio
    treasurer_client.post(f"/donors/{b}/merge", data={"other_id": str(a)})

    response = treasurer_client.get(f"/donors/{a}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/donors/{b}")
    page = treasurer_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Donor #{a} was merged into this record." in page

    listing = treasurer_client.get("/donors/?q=smith").get_data(as_text=True)
    assert "Patricia Smith" in listing
    assert f'href="/donors/{a}"' not in listing
    assert "Pat Smith<" not in listing


def test_merge_search_lists_other_donors_only(treasurer_client, trio):
    a, b, c = trio
    html = treasurer_client.get(f"/donors/{b}/merge?q=smith").get_data(as_text=True)
    assert f"other={a}" in html
    assert f"other={b}" not in html
    assert f"other={c}" not in html  # already merged away


def test_merge_confirmation_shows_both_records_and_what_happens(treasurer_client, trio):
    a, b, _c = trio
    html = treasurer_client.get(f"/donors/{b}/merge?other={a}").get_data(as_text=True)
    assert "Pat Smith" in html and "Patricia Smith" in html
    assert "filled from the duplicate: email, address line 1, city" in html
    assert re.search(rf'<input[^>]*name="other_id"[^>]*type="hidden"[^>]*value="{a}"', html)
    assert f'action="/donors/{b}/merge"' in html
    assert reload(a).merged_into_id is None


def test_merging_a_donor_with_itself_is_refused(treasurer_client, trio):
    a, _b, _c = trio
    merges_before = len(events("donor.merge", a))  # C was merged into A
    response = treasurer_client.post(f"/donors/{a}/merge", data={"other_id": str(a)})
    assert response.status_code == 200
    assert "Choose two different donors to merge." in response.get_data(as_text=True)
    assert reload(a).merged_into_id is None
    assert len(events("donor.merge", a)) == merges_before

    page = treasurer_client.get(f"/donors/{a}/merge?other={a}")
    assert page.status_code == 200
    assert "Choose two different donors to merge." in page.get_data(as_text=True)


def test_merging_an_already_merged_donor_is_refused(treasurer_client, trio):
    _a, b, c = trio
    response = treasurer_client.post(f"/donors/{b}/merge", data={"other_id": str(c)})
    assert response.status_code == 200
    assert "already merged" in response.get_data(as_text=True)
    assert events("donor.merge", b) == []


def test_merge_with_unknown_or_missing_donor_explains(treasurer_client, trio):
    _a, b, _c = trio
    page = treasurer_client.get(f"/donors/{b}/merge?other=9999")
    assert page.status_code == 200
    assert "There is no donor #9999." in page.get_data(as_text=True)

    posted = treasurer_client.post(f"/donors/{b}/merge", data={"other_id": "9999"})
    assert posted.status_code == 200
    assert "There is no donor #9999." in posted.get_data(as_text=True)

    huge = "99999999999999999999"  # larger than any database integer
    assert treasurer_client.get(f"/donors/{b}/merge?other={huge}").status_code == 200
    posted = treasurer_client.post(f"/donors/{b}/merge", data={"other_id": huge})
    assert posted.status_code == 200
    assert f"There is no donor #{huge}." in posted.get_data(as_text=True)

    empty = treasurer_client.post(f"/donors/{b}/merge", data={})
    assert empty.status_code == 200
    assert "Choose the duplicate donor first." in empty.get_data(as_text=True)
    assert events("donor.merge", b) == []


def test_staff_cannot_merge(staff_client, trio):
    a, b, _c = trio
    assert staff_client.get(f"/donors/{b}/merge?other={a}").status_code == 403
    assert staff_client.post(f"/donors/{b}/merge", data={"other_id": str(a)}).status_code == 403
    assert reload(a).merged_into_id is None


def test_merge_form_needs_its_csrf_token(make_app, create_user, trio):
    a, b, _c = trio
    app = make_app(WTF_CSRF_ENABLED=True)
    client = sign_in(app.test_client(), create_user(Role.TREASURER))

    page = client.get(f"/donors/{b}/merge?other={a}").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    response = client.post(f"/donors/{b}/merge", data={"other_id": str(a)})
    assert response.status_code == 400
    assert reload(a).merged_into_id is None


# --- staff and the name lookup ------------------------------------------


@pytest.fixture
def private_donor(create_donor):
    return create_donor(
        "Zelda Quartermaine",
        email=SECRET_EMAIL,
        address_line1=SECRET_STREET,
        city=SECRET_CITY,
        notes=SECRET_NOTES,
        is_organization=True,
    )


def test_staff_cannot_reach_donor_records(staff_client, private_donor):
    for path in ("/donors/", f"/donors/{private_donor.id}", "/donors/new"):
        assert staff_client.get(path).status_code == 403, path
    assert staff_client.get(f"/donors/{private_donor.id}/edit").status_code == 403
    response = staff_client.post("/donors/new", data=donor_form())
    assert response.status_code == 403
    assert donor_count() == 1


def test_staff_lookup_shows_names_only(staff_client, private_donor):
    html = staff_client.get("/donors/lookup?q=quarter").get_data(as_text=True)
    assert "Zelda Quartermaine" in html
    assert "organisation" in html
    for secret in (SECRET_EMAIL, SECRET_STREET, SECRET_CITY, SECRET_NOTES):
        assert secret not in html
    assert f"/donors/{private_donor.id}" not in html


def test_lookup_links_to_detail_for_treasurers(treasurer_client, private_donor):
    html = treasurer_client.get("/donors/lookup?q=zelda").get_data(as_text=True)
    assert f'href="/donors/{private_donor.id}"' in html


def test_lookup_leaves_out_merged_donors(staff_client, create_donor):
    kept, gone = create_donor("Robin Kept"), create_donor("Robin Gone")
    donor_service.merge_donors(actor=None, source=gone, target=kept)
    db.session.commit()
    html = staff_client.get("/donors/lookup?q=robin").get_data(as_text=True)
    assert "Robin Kept" in html
    assert "Robin Gone" not in html


def test_lookup_without_match_says_so(staff_client, private_donor):
    html = staff_client.get("/donors/lookup?q=nobody").get_data(as_text=True)
    assert "No donor's name contains" in html
    assert "Zelda" not in html


def test_lookup_json_has_only_id_name_and_kind(staff_client, private_donor):
    response = staff_client.get("/donors/lookup.json?q=ZELDA")
    assert response.status_code == 200
    assert response.json == {
        "results": [{"id": private_donor.id, "name": "Zelda Quartermaine", "is_organization": True}]
    }
    body = response.get_data(as_text=True)
    for secret in (SECRET_EMAIL, SECRET_STREET, SECRET_CITY, SECRET_NOTES):
        assert secret not in body
    assert staff_client.get("/donors/lookup.json").json == {"results": []}


def test_every_donor_view_has_a_one_line_docstring(app):
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith("donors."):
            doc = (view.__doc__ or "").strip()
            assert doc and "\n" not in doc, endpoint


def test_merge_refuses_when_joined_notes_would_be_too_long(app, treasurer_client, create_donor):
    from donations.services.donors import NOTES_MAX_LENGTH

    keep = create_donor("Keep Me", notes="k" * (NOTES_MAX_LENGTH - 10))
    dup = create_donor("Duplicate", notes="d" * 50)
    response = treasurer_client.post(f"/donors/{keep.id}/merge", data={"other_id": dup.id})
    assert "Shorten one donor&#39;s notes first." in response.get_data(as_text=True)
    assert db.session.get(Donor, dup.id).merged_into_id is None
    assert len(db.session.get(Donor, keep.id).notes) == NOTES_MAX_LENGTH - 10
