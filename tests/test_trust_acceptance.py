"""Acceptance checks for issue 11 ("Trust"), written as a strict reviewer runs them.

The goods forms are enumerated from the URL map and each form class's fields, so a
form or a text field added later is either covered here or fails the coverage test.
Realistic names, emails and phone numbers typed into every text field must leave no
trace in any page, PDF or export.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
import test_big_numbers as big
from pypdf import PdfReader
from sqlalchemy import select
from wtforms import FieldList, FormField, StringField

from conftest import sign_in
from donations.blueprints import catalog as catalog_bp
from donations.blueprints import inventory_files as files_bp
from donations.blueprints import (
    inventory_forms,
    movements_forms,
    partner_requests_forms,
    surplus_forms,
)
from donations.blueprints import needs as needs_bp
from donations.extensions import db, limiter
from donations.models import (
    AuditEvent,
    GoodsRequest,
    Item,
    OutboxMessage,
    Pledge,
    Role,
    StockDocument,
    User,
)
from donations.ranges import BoundedIntegerField, IdSelectField
from donations.services import accounts, partner_requests, pledges, recipients

TODAY = date.today().isoformat()
TYPED = [
    "Maria Gonzalez",
    "given to Maria Gonzalez, room 4",
    "maria.g@gmail.com",
    "(713) 555-0142",
    "+1 713 555 0142",
    "713.555.0142",
]
# What must never show up again, once typed.
NEEDLES = ["Maria Gonzalez", "maria.g@gmail.com", "555-0142", "555 0142", "555.0142"]


def _rows(*lines: tuple[str, ...]) -> dict[str, str]:
    data: dict[str, str] = {}
    for index, (item, quantity, *condition) in enumerate(lines):
        data[f"lines-{index}-item"] = item
        data[f"lines-{index}-quantity"] = quantity
        if condition:
            data[f"lines-{index}-condition"] = condition[0]
    return data


def text_field_names(form_class: type, prefix: str = "") -> list[str]:
    """Every text input a form class renders (first row of a list of rows)."""
    form = form_class(formdata=None, meta={"csrf": False}, prefix=prefix)
    names: list[str] = []

    def walk(fields: Any) -> None:
        for field_ in fields:
            if isinstance(field_, FieldList):
                entry = field_.entries[0] if field_.entries else field_.append_entry()
                walk([entry])
            elif isinstance(field_, FormField):
                walk(field_.form)
            elif isinstance(field_, StringField) and not isinstance(
                field_, BoundedIntegerField | IdSelectField
            ):
                names.append(field_.name)

    walk(form)
    return names


@dataclass
class Case:
    """One goods form: where it posts, who may post it and a valid filling."""

    endpoint: str
    form_class: type | None
    role: str  # staff | admin | public
    url: Callable[[Any], str]
    data: Callable[[Any], dict[str, str]]
    prefix: str = ""
    exempt: frozenset[str] = frozenset()
    extra: tuple[str, ...] = ()  # text inputs the view reads outside the form class
    fields: list[str] = field(default_factory=list)


def _pledge(goods) -> Pledge:
    pledge = pledges.make_pledge(
        pledges.PledgeRequest(
            name="Pat Giver",
            email="pat@example.com",
            site_id=goods.dropoff.id,
            expected_on=date.today() + timedelta(days=2),
            lines=[goods.line("SOAP", 2)],
        )
    )
    db.session.commit()
    return pledge


def _intake(goods) -> StockDocument:
    from donations.services import inventory

    document = inventory.record_intake(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=date.today(),
        source="anonymous",
        lines=[goods.line("SOAP", 1, "new")],
    )
    db.session.commit()
    return document


def _on_hand(site_id: int, item_id: int) -> int:
    from donations.services import inventory

    levels = inventory.on_hand_by_site(item_id)
    return next((level.on_hand for level in levels if level.site_id == site_id), 0)


def _member(goods) -> int:
    """Our profile, and a second member (North) holding blankets: North's id (made once)."""
    from donations.services import catalog, inventory, organizations
    from donations.services.organization import get_organization, update_organization
    from donations.tenancy import use_organization

    if get_organization() is None:
        update_organization(actor=None, legal_name="Harbor Light Shelter, Inc.")
        db.session.commit()
    north = organizations.find_organization("north")
    if north is not None:
        return north.id
    north = organizations.create_organization(actor=None, slug="north", legal_name="North Refuge")
    db.session.commit()
    with use_organization(north.id):
        catalog.seed_catalog()
        site = catalog.create_site(actor=None, name="North house", kind="shelter")
        db.session.flush()
        blanket = db.session.scalar(select(Item).where(Item.code == "BLANKET"))
        inventory.record_intake(
            actor=None,
            site_id=site.id,
            effective_date=date.today(),
            source="anonymous",
            lines=[inventory.Line(blanket.id, 50, "new")],
        )
        db.session.commit()
    return north.id


def _member_offer(goods) -> int:
    """North's open offer of blankets (made once)."""
    from donations.models import SurplusOffer, SurplusOfferStatus
    from donations.services import surplus
    from donations.tenancy import use_organization

    north_id = _member(goods)
    found = db.session.scalar(
        select(SurplusOffer.id).where(
            SurplusOffer.giver_organization_id == north_id,
            SurplusOffer.status == SurplusOfferStatus.OPEN,
        )
    )
    if found is not None:
        return found
    with use_organization(north_id):
        blanket = db.session.scalar(select(Item).where(Item.code == "BLANKET"))
        site = db.session.scalar(select(StockDocument.site_id).limit(1))  # North's own
        offer = surplus.offer_surplus(actor=None, item_id=blanket.id, site_id=site, quantity=20)
        db.session.commit()
    return offer.id


def _incoming_claim(goods) -> int:
    """North's request, waiting for us, for an offer of our soap (made once)."""
    from donations.models import SurplusClaim, SurplusClaimStatus
    from donations.services import surplus
    from donations.tenancy import use_organization

    north_id = _member(goods)
    found = db.session.scalar(
        select(SurplusClaim.id).where(
            SurplusClaim.receiver_organization_id == north_id,
            SurplusClaim.status == SurplusClaimStatus.PENDING,
        )
    )
    if found is not None:
        return found
    offer = surplus.offer_surplus(
        actor=None, item_id=goods.items["SOAP"].id, site_id=goods.warehouse.id, quantity=5
    )
    db.session.commit()
    with use_organization(north_id):
        site = db.session.scalar(select(StockDocument.site_id).limit(1))
        claim = surplus.request_surplus(actor=None, offer_id=offer.id, quantity=2, site_id=site)
        db.session.commit()
    return claim.id


def _partner() -> User:
    """The Safe Passage clinic's partner login (made once)."""
    found = db.session.scalar(select(User).where(User.email == "desk@clinic.example"))
    if found is None:
        found = accounts.create_user(
            actor=None,
            email="desk@clinic.example",
            name="Clinic desk",
            role=Role.PARTNER,
            password="clinic desk password",
            recipient_id=recipients.find_active_recipient(name="Safe Passage clinic").id,
        )
        db.session.commit()
    return found


def _goods_request(goods) -> GoodsRequest:
    made = partner_requests.create_request(
        actor=_partner(), lines=[partner_requests.AskedLine(goods.items["SOAP"].id, 2)]
    )
    db.session.commit()
    return made


def _outreach() -> str:
    return str(recipients.find_active_recipient(name="Street outreach").id)


CASES = [
    Case(
        "movements.intake",
        movements_forms.IntakeForm,
        "staff",
        lambda g: "/inventory/intake/new",
        lambda g: {
            "site_id": str(g.shelter.id),
            "effective_date": TODAY,
            "source": "anonymous",
            "note": "Two bags",
            **_rows(("SOAP", "2", "new")),
        },
        # The names of drives (and donors) are not the people served.
        exempt=frozenset({"drive_name"}),
    ),
    Case(
        "movements.distribution",
        movements_forms.DistributionForm,
        "staff",
        lambda g: "/inventory/distribution/new",
        lambda g: {
            "site_id": str(g.shelter.id),
            "effective_date": TODAY,
            "recipient_id": _outreach(),
            "case_code": "C-104",
            "note": "For the new family",
            **_rows(("SOAP", "1")),
        },
    ),
    Case(
        "movements.transfer",
        movements_forms.TransferForm,
        "staff",
        lambda g: "/inventory/transfer/new",
        lambda g: {
            "site_id": str(g.warehouse.id),
            "to_site_id": str(g.shelter.id),
            "effective_date": TODAY,
            "note": "Restock",
            **_rows(("SOAP", "1")),
        },
    ),
    Case(
        "movements.adjustment",
        movements_forms.AdjustmentForm,
        "staff",
        lambda g: "/inventory/adjustment/new",
        lambda g: {
            "site_id": str(g.warehouse.id),
            "effective_date": TODAY,
            "reason": "other",
            "direction": "out",
            "note": "Spilled",
            **_rows(("SOAP", "1")),
        },
    ),
    Case(
        "movements.count",
        movements_forms.CountForm,
        "staff",
        lambda g: "/inventory/count/new",
        lambda g: {
            "site_id": str(g.warehouse.id),
            "effective_date": TODAY,
            "lines-0-item_id": str(g.items["SOAP"].id),
            "lines-0-counted": "40",
            "lines-0-expected": str(_on_hand(g.warehouse.id, g.items["SOAP"].id)),
            "note": "Shelf count",
            "confirm": "y",
        },
    ),
    Case(
        "movements.kits",
        movements_forms.KitForm,
        "staff",
        lambda g: "/inventory/kits",
        lambda g: {
            "kit_item_id": str(g.items["KIT-HYG"].id),
            "site_id": str(g.warehouse.id),
            "quantity": "1",
            "action": "assemble",
            "effective_date": TODAY,
            "note": "Packed",
        },
    ),
    Case(
        "movements.kits (take apart)",
        movements_forms.KitForm,
        "staff",
        lambda g: "/inventory/kits",
        lambda g: {
            "kit_item_id": str(g.items["KIT-HYG"].id),
            "site_id": str(g.warehouse.id),
            "quantity": "1",
            "action": "disassemble",
            "effective_date": TODAY,
            "note": "Unpacked",
        },
    ),
    Case(
        "inventory.reverse",
        inventory_forms.ReverseForm,
        "staff",
        lambda g: f"/inventory/documents/{_intake(g).id}/reverse",
        lambda g: {"note": "Entered twice"},
    ),
    Case(
        "needs.pledge",
        needs_bp.PledgeForm,
        "public",
        lambda g: "/needs/pledge",
        lambda g: {
            "name": "Pat Giver",
            "email": "pat@example.com",
            "site_id": str(g.dropoff.id),
            "expected_on": (date.today() + timedelta(days=3)).isoformat(),
            "note": "Two bags",
            "lines-0-item": str(g.items["SOAP"].id),
            "lines-0-quantity": "4",
        },
        # The donor who pledges gives their own name and email.
        exempt=frozenset({"name", "email"}),
    ),
    Case(
        "needs.receive",
        needs_bp.ReceiveForm,
        "staff",
        lambda g: f"/inventory/pledges/{_pledge(g).id}/receive",
        lambda g: {
            "effective_date": TODAY,
            "site_id": str(g.dropoff.id),
            "note": "Arrived",
            **{
                f"quantity-{line.id}": "2"
                for line in db.session.scalars(select(Pledge).order_by(Pledge.id.desc()))
                .first()
                .lines
            },
        },
        extra=("quantity-LINE",),
    ),
    Case(
        "needs.cancel",
        needs_bp.CancelForm,
        "staff",
        lambda g: f"/inventory/pledges/{_pledge(g).id}/cancel",
        lambda g: {"cancel-reason": "Donor moved away"},
        prefix="cancel",
    ),
    Case(
        "inventory_files.import_intake",
        files_bp.ImportForm,
        "staff",
        lambda g: "/inventory/import",
        lambda g: {
            "site_id": str(g.warehouse.id),
            "effective_date": TODAY,
            "source": "anonymous",
            "note": "Church list",
            "record": "1",
            "rows": "code,quantity\nSOAP,3\n",
        },
        exempt=frozenset({"drive_name"}),
    ),
    Case(
        "catalog.new_item",
        catalog_bp.ItemForm,
        "staff",
        lambda g: "/inventory/catalog/new",
        lambda g: {
            "category_id": str(g.items["SOAP"].category_id),
            "name": "Rain poncho",
            "size": "",
            "unit": "each",
            "code": "PONCHO",
            "active": "y",
        },
    ),
    Case(
        "catalog.new_category",
        catalog_bp.CategoryForm,
        "staff",
        lambda g: "/inventory/catalog/categories/new",
        lambda g: {"name": "Rain gear", "sort_order": "5"},
    ),
    Case(
        "catalog.new_site",
        catalog_bp.SiteForm,
        "admin",
        lambda g: "/inventory/sites/new",
        lambda g: {"name": "North pantry", "kind": "warehouse", "active": "y"},
        # A site's postal address is the organisation's own building, not a person served
        # (street names such as Martin Luther King Blvd read like names; ZIP+4 like phones).
        # Its contact email is a staff mailbox that gets the low-stock alerts.
        exempt=frozenset(
            {"address_line1", "address_line2", "city", "region", "postal_code", "contact_email"}
        ),
    ),
    Case(
        "goods_requests.decline",
        partner_requests_forms.DeclineForm,
        "staff",
        lambda g: f"/inventory/requests/{_goods_request(g).id}/decline",
        lambda g: {"reason": "Out of soap until the spring drive"},
    ),
    # The surplus exchange: the other members read these notes and reasons.
    Case(
        "surplus.offer",
        surplus_forms.OfferForm,
        "staff",
        lambda g: "/inventory/surplus/offers",
        lambda g: {
            "item_id": str(g.items["SOAP"].id),
            "site_id": str(g.warehouse.id),
            "quantity": "3",
            "condition": "new",
            "note": "Boxed hotel bars",
        },
    ),
    Case(
        "surplus.ask",
        surplus_forms.RequestForm,
        "staff",
        lambda g: f"/inventory/surplus/offers/{_member_offer(g)}/request",
        lambda g: {"quantity": "2", "site_id": str(g.warehouse.id), "note": "For winter"},
    ),
    Case(
        "surplus.decline",
        surplus_forms.DeclineForm,
        "staff",
        lambda g: f"/inventory/surplus/requests/{_incoming_claim(g)}/decline",
        lambda g: {"reason": "Promised to a clinic first"},
    ),
    # A partner agency's own form (under /partner): its note is screened too.
    Case(
        "partner_requests.new",
        partner_requests_forms.NewRequestForm,
        "partner",
        lambda g: "/partner/requests/new",
        lambda g: {
            "rows-0-item_id": str(g.items["SOAP"].id),
            "rows-0-quantity": "3",
            "note": "Winter supplies for our drop-in",
        },
    ),
]


def _fill(case: Case) -> list[str]:
    names = text_field_names(case.form_class, case.prefix) if case.form_class else []
    return [n for n in names if n not in case.exempt] + list(case.extra)


def test_every_goods_form_in_the_url_map_is_covered(app):
    """A new POST form under /inventory or /needs must be added to CASES (or listed here)."""
    covered = {case.endpoint.split(" ")[0] for case in CASES}
    # Forms with no free text a person could type a name into, or covered elsewhere.
    not_free_text = {
        "catalog.edit_item",  # the same ItemForm as catalog.new_item
        "catalog.edit_site",  # the same SiteForm as catalog.new_site
        "catalog.kit_components",  # item choices and quantities only
        "catalog.par_levels",  # numbers only
        "goods_requests.fulfil",  # a site, a date and quantities only
        "surplus.withdraw",  # one button
        "surplus.confirm",  # one button
        "surplus.cancel",  # one button
    }
    posted = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.rule.startswith(("/inventory", "/needs"))
    }
    assert posted - covered - not_free_text == set()


@pytest.mark.parametrize("case", CASES, ids=[case.endpoint for case in CASES])
def test_form_fields_are_enumerated(app, case):
    with app.test_request_context():
        names = _fill(case)
    assert names, case.endpoint
    with app.test_request_context():
        assert any(n.endswith("note") or n.endswith("reason") or n == "name" for n in names)


def _surfaces(staff, treasurer, admin, public) -> dict[str, str]:
    out: dict[str, str] = {}

    def add(label: str, response) -> None:
        assert response.status_code == 200, (label, response.status_code)
        if response.mimetype == "application/pdf":
            reader = PdfReader(io.BytesIO(response.data))
            out[label] = " ".join(page.extract_text() or "" for page in reader.pages)
        else:
            out[label] = response.get_data(as_text=True)

    add("documents", staff.get("/inventory/documents"))
    add("stock", staff.get("/inventory/"))
    add("dashboard", staff.get("/dashboard"))
    add("ledger.csv", staff.get("/inventory/export/ledger.csv"))
    add("stock.csv", staff.get("/inventory/export/stock.csv"))
    add("pledges", staff.get("/inventory/pledges?status=all"))
    add("catalog", staff.get("/inventory/catalog?show=all"))
    add("sites", staff.get("/inventory/sites"))
    add("public needs", public.get("/needs"))
    add("public pledge form", public.get("/needs/pledge"))
    add("report", treasurer.get("/reports/"))
    add("report.pdf", treasurer.get("/reports/report.pdf"))
    add("audit", admin.get("/admin/audit"))
    add("privacy scan", admin.get("/admin/privacy"))
    add("recipients", admin.get("/admin/recipients"))
    add("record", staff.get("/inventory/record"))
    add("in-kind.csv", treasurer.get("/reports/in-kind.csv"))
    add("journal.csv", treasurer.get("/reports/journal.csv"))
    for item_id in db.session.scalars(select(Item.id)):
        add(f"item {item_id}", staff.get(f"/inventory/items/{item_id}"))
    for message in db.session.scalars(select(OutboxMessage)):
        out[f"mail {message.id}"] = f"{message.subject} {message.body_text} {message.body_html}"
    out["audit summaries"] = " ".join(db.session.scalars(select(AuditEvent.summary)))
    for document_id in db.session.scalars(select(StockDocument.id)):
        add(f"document {document_id}", staff.get(f"/inventory/documents/{document_id}"))
    for pledge_id in db.session.scalars(select(Pledge.id)):
        add(f"pledge {pledge_id}", staff.get(f"/inventory/pledges/{pledge_id}"))
    add("partner requests", staff.get("/inventory/requests/"))
    add("surplus", staff.get("/inventory/surplus/"))
    for request_id in db.session.scalars(select(GoodsRequest.id)):
        add(f"request {request_id}", staff.get(f"/inventory/requests/{request_id}"))
    return out


def test_typed_names_emails_and_phones_leave_no_trace(
    app, client, staff_client, treasurer_client, admin_client, goods, stock_in
):
    stock_in(goods.warehouse, SOAP=200, TOOTHBRUSH=20, TOOTHPASTE=20, SHAMPOO=20, SOCKS_M=40)
    stock_in(goods.shelter, SOAP=200)
    partner = app.test_client()
    sign_in(partner, _partner())
    clients = {"staff": staff_client, "admin": admin_client, "public": client, "partner": partner}
    tried = 0
    for case in CASES:
        with app.test_request_context():
            names = _fill(case)
        for name in names:
            for typed in TYPED:
                url = case.url(goods)
                data = case.data(goods)
                if name == "quantity-LINE":
                    key = next(k for k in data if k.startswith("quantity-"))
                    data[key] = typed
                else:
                    data[name] = typed
                limiter.reset()
                response = clients[case.role].post(url, data=data)
                tried += 1
                assert response.status_code < 500, (case.endpoint, name, typed)
                assert response.status_code != 429
                db.session.rollback()
    assert tried > 100
    # Every form still works with ordinary text: each case recorded something real.
    for number, case in enumerate(CASES):
        limiter.reset()
        url = case.url(goods)
        data = case.data(goods)
        if case.endpoint.startswith("catalog."):  # names and codes are unique
            data.update(name=f"{data['name']} {number}")
            data.update({"code": f"{data['code']}-{number}"} if "code" in data else {})
        response = clients[case.role].post(url, data=data)
        assert response.status_code in (302, 303), (case.endpoint, response.status_code)
    found = {
        label: [needle for needle in NEEDLES if needle in body]
        for label, body in _surfaces(staff_client, treasurer_client, admin_client, client).items()
    }
    assert {label: hits for label, hits in found.items() if hits} == {}


CSV_CASES = [
    "code,item,quantity\n,Maria Gonzalez,2\n",
    "code,quantity,condition\nSOAP,2,maria.g@gmail.com\n",
    "code,quantity,size\nSOAP,2,(713) 555-0142\n",
    "code,quantity\nSOAP,+1 713 555 0142\n",
    "code,quantity,recipient\nSOAP,2,given to Maria Gonzalez\n",
    "code,quantity,Maria Gonzalez\nSOAP,2,x\n",
    "Maria Gonzalez,713.555.0142\nSOAP,2\n",
]


@pytest.mark.parametrize("content", CSV_CASES)
def test_goods_csv_cells_never_come_back(staff_client, goods, content):
    form = {
        "site_id": str(goods.warehouse.id),
        "effective_date": TODAY,
        "source": "anonymous",
        "check": "1",
        "csv_file": (io.BytesIO(content.encode()), "intake.csv"),
    }
    response = staff_client.post("/inventory/import", data=form, content_type="multipart/form-data")
    assert response.status_code < 500
    body = response.get_data(as_text=True)
    assert [needle for needle in NEEDLES if needle in body] == []


# --- huge, negative and non-numeric values in every query argument and form field -------

world = big.world  # the fixture: one object of every kind, for the pages' path arguments

BAD_VALUES = (str(2**70), "-1", "-99999999999999999999", "abc", str(2**31))
# Query arguments read in the code (request.args, id_arg, int_arg, page_arg) and by the
# filter forms; every GET page gets all of them at once, as well as its own forms' fields.
QUERY_ARGS = [
    *("page", "donor_id", "donor", "item", "item_id", "site", "site_id", "to_site_id"),
    *("other", "category", "category_id", "status", "kind", "type", "tax_year", "year"),
    *("run", "run_id", "fund", "fund_id", "default_fund", "recipient_id", "pledge_id"),
    *("document_id", "kit_item_id", "copies", "scale", "from", "to", "start", "end"),
    *("basis", "frequency", "code", "reason", "scan", "q", "confirm_open", "show"),
    *("date_from", "date_to", "per_page", "user_id", "gift_id", "receipt_id"),
]


def _forms(html: str) -> list[dict[str, Any]]:
    parser = big._Forms()
    parser.feed(html)
    return parser.forms


def _fuzz_forms(client, url: str, html: str, failures: list[str], seen: set) -> None:
    """Send every field of every form on the page each bad value, one field at a time."""
    for form in _forms(html):
        action = form["action"] or url
        if action.startswith(("http", "/logout", "/give/checkout")) or "sign-out" in action:
            continue  # leaving, paying, or signing this very client out
        method = form["method"].upper()
        key = (method, action.split("?")[0], tuple(sorted(form["fields"])))
        if key in seen:
            continue
        seen.add(key)
        base = {k: v for k, v in form["fields"].items() if v is not None}
        for name in sorted(form["fields"]):
            if name in ("csrf_token", "require_two_factor"):
                continue  # the second would send this very client to enrol a second factor
            for value in BAD_VALUES:
                data = {**base, name: value}
                if method == "GET":
                    status = big._status(client, "GET", action.split("?")[0], query_string=data)
                else:
                    status = big._status(client, "POST", action, data=data)
                if status >= 500:
                    failures.append(f"{method} {action} {name}={value} -> {status}")


def _pages(app, world):
    for rule in big._rules(app):
        if "GET" not in rule.methods or rule.arguments - set(world):
            continue
        yield big.ARG.sub(lambda m: str(world.get(m.group(2), 1)), rule.rule)


def test_every_query_argument_of_every_page_never_500(app, create_user, world):
    from conftest import sign_in
    from donations.models import Role

    failures: list[str] = []
    pages = list(_pages(app, world))
    assert "/account" in pages and "/admin/privacy" in pages and "/admin/recipients" in pages
    assert any(page.startswith("/receipts/year-end/donor/") for page in pages)
    for role in (None, Role.STAFF, Role.TREASURER, Role.ADMIN):
        client = app.test_client()
        if role is not None:
            sign_in(client, create_user(role))
        for value in BAD_VALUES:
            query = {name: value for name in QUERY_ARGS}
            for url in pages:
                status = big._status(client, "GET", url, query_string=query)
                if status >= 500:
                    failures.append(f"{role} GET {url}?…={value} -> {status}")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("role", ["staff", "admin"])  # an admin sees every treasurer page
def test_every_field_of_every_form_never_500(app, create_user, world, role):
    """GET filter forms and POST forms alike, every field, not only the integer-looking ones."""
    from conftest import sign_in
    from donations.models import Role

    client = sign_in(app.test_client(), create_user(Role(role)))
    failures: list[str] = []
    seen: set = set()
    for url in _pages(app, world):
        page = client.get(url)
        if page.status_code == 200 and "html" in page.content_type:
            _fuzz_forms(client, url, page.get_data(as_text=True), failures, seen)
    assert len(seen) >= 30, sorted(seen)
    assert failures == [], "\n".join(failures)


def test_forms_reached_only_after_a_preview_never_500(app, create_user, world):
    """The year-end preview and the one-donor statement preview are POST results."""
    from conftest import sign_in
    from donations.models import Role

    client = sign_in(app.test_client(), create_user(Role.TREASURER))
    failures: list[str] = []
    seen: set = set()
    start_page = client.get("/receipts/year-end/").get_data(as_text=True)
    start = next(f for f in _forms(start_page) if f["action"].endswith("/preview"))
    data = {k: v for k, v in start["fields"].items() if v is not None}
    data["confirm_open"] = "y"
    preview = client.post("/receipts/year-end/preview", data=data)
    assert preview.status_code == 200, preview.status_code
    html = preview.get_data(as_text=True)
    assert any(f["action"].endswith("/start") for f in _forms(html))
    _fuzz_forms(client, "/receipts/year-end/preview", html, failures, seen)
    donor_url = f"/receipts/year-end/donor/{world['donor_id']}"
    page = client.get(donor_url).get_data(as_text=True)
    form = next(f for f in _forms(page) if f["action"].endswith("/preview"))
    data = {k: v for k, v in form["fields"].items() if v is not None}
    preview = client.post(form["action"], data=data)
    assert preview.status_code == 200, preview.status_code
    _fuzz_forms(client, form["action"], preview.get_data(as_text=True), failures, seen)
    assert any(key[1].endswith("/issue") for key in seen)
    assert failures == [], "\n".join(failures)


# --- point 2: links made outside a request ---------------------------------------------

PUBLIC = "https://give.example.org/harbor"


def test_statements_made_by_the_cli_link_to_the_public_address(app, organization, create_donor):
    """No SERVER_NAME, no request: the statement, its QR code and its mail use PUBLIC_BASE_URL."""
    from donations.models import Fund, OutboxMessage, Receipt, utcnow
    from donations.services import gifts as gift_service
    from donations.services import receipt_files

    app.config.update(PUBLIC_BASE_URL=PUBLIC, SERVER_NAME=None)
    year = utcnow().year - 1
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.flush()
    donor = create_donor("Link Giver", email="link@example.com")
    gift_service.record_offline_gift(
        actor=None,
        donor_id=donor.id,
        fund_id=fund.id,
        method="cash",
        amount_cents=12_500,
        currency="USD",
        received_on=date(year, 5, 1),
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["receipts", "year-end", str(year), "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    statement = db.session.scalar(select(Receipt).where(Receipt.kind == "statement"))
    assert statement is not None
    mails = list(db.session.scalars(select(OutboxMessage)))
    assert mails
    texts = [m.body_text for m in mails] + [m.body_html or "" for m in mails]
    # The PDF mailed by the run, and the one staff download now.
    attached = [a.data for m in mails for a in m.attachments if a.content_type.endswith("pdf")]
    assert attached
    for data in [*attached, receipt_files.receipt_pdf(statement)]:
        pages = PdfReader(io.BytesIO(data)).pages
        texts.append(" ".join(page.extract_text() or "" for page in pages))
    links = [link for text in texts for link in _links(text)]
    assert links, texts
    assert [link for link in links if not link.startswith(PUBLIC + "/")] == []
    assert any("/verify" in link for link in links)


def _links(text: str) -> list[str]:
    import re

    return [m.rstrip(".,)") for m in re.findall(r"https?://[^\s<>\"']+", text)]


# --- point 10: every page staff can open --------------------------------------------------


def test_no_page_staff_can_open_names_an_anonymous_donor(app, staff_client, goods, create_donor):
    """Zed gave anonymously, money and goods, and pledged more: staff never read his name."""
    from test_anonymous_to_staff import SECRET

    from donations.models import Fund, utcnow
    from donations.services import gifts as gift_service
    from donations.services import inventory

    fund = Fund(name="General")
    db.session.add(fund)
    db.session.flush()
    donor = create_donor(f"Zed {SECRET}", email="zed@example.com")
    gift_service.record_offline_gift(
        actor=None,
        donor_id=donor.id,
        fund_id=fund.id,
        method="cash",
        amount_cents=2500,
        currency="USD",
        received_on=utcnow().date(),
        is_anonymous=True,
    )
    document = inventory.record_intake(
        actor=None,
        site_id=goods.dropoff.id,
        effective_date=date.today(),
        source="donor",
        donor_id=donor.id,
        lines=[goods.line("SOCKS-M", 4, "new")],
    )
    pledge = pledges.make_pledge(
        pledges.PledgeRequest(
            name=donor.name,
            email=donor.email,
            site_id=goods.dropoff.id,
            expected_on=date.today() + timedelta(days=3),
            lines=[goods.line("SOCKS-M", 2)],
        )
    )
    db.session.commit()
    objects = {
        "donor_id": donor.id,
        "document_id": document.id,
        "pledge_id": pledge.id,
        "item_id": goods.items["SOCKS-M"].id,
        "site_id": goods.dropoff.id,
    }
    seen = []
    for url in _pages(app, objects):
        for query in ("", f"?q={SECRET}", f"?q=Zed&donor_id={donor.id}", f"?donor={donor.id}"):
            response = staff_client.get(url + query)
            if response.status_code != 200:
                continue
            seen.append(url + query)
            # What staff typed comes back in the search box; nothing else may name him.
            body = response.get_data(as_text=True)
            for echo in (f'value="{SECRET}"', f"&ldquo;{SECRET}&rdquo;"):
                body = body.replace(echo, "")
            assert SECRET not in body and "zed@example.com" not in body, url + query
    assert f"/inventory/documents/{document.id}" in seen
    assert f"/inventory/pledges/{pledge.id}" in seen


@pytest.mark.parametrize(
    "text",
    [*TYPED, "Mei Chen", "Kwame Mensah", "Deshawn Carter", "Yuki Tanaka", "Imani Brooks"],
)
def test_the_screen_knows_realistic_names_and_contact_details(text):
    from donations.services import privacy

    assert privacy.personal_details(text)


@pytest.mark.parametrize("value", [str(2**31), str(2**31 + 5), str(2**40)])
def test_a_donor_search_or_id_past_int4_is_no_500(staff_client, treasurer_client, goods, value):
    """PostgreSQL's Integer is int4: "#2147483648" used to reach it and fail there."""
    for client, url in [
        (staff_client, f"/donors/lookup?q={value}"),
        (staff_client, f"/donors/lookup.json?q=%23{value}"),
        (staff_client, f"/inventory/intake/new?q={value}"),
        (staff_client, f"/inventory/import?q={value}"),
        (treasurer_client, f"/gifts/new?q={value}"),
        (treasurer_client, f"/donors/{value}"),
        (treasurer_client, f"/gifts/{value}"),
        (treasurer_client, f"/receipts/{value}"),
    ]:
        assert client.get(url).status_code in (200, 404), url


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/my-gifts", {"email": "giver@example.com"}),
        ("/reset-password", {"email": "staff-host@example.org"}),
        ("/needs/pledge", {}),
        ("/give", {}),
    ],
)
def test_another_host_gets_a_400_and_no_mail(client, create_user, create_donor, url, data):
    from sqlalchemy import func

    from donations.models import OutboxMessage

    create_user(email="staff-host@example.org")
    create_donor("Host Giver", email="giver@example.com")
    for host in ("evil.example", "evil.example:5000", "donations.test.evil.example"):
        response = client.post(url, data=data, headers={"Host": host})
        assert response.status_code == 400, (url, host)
        assert client.get(url, headers={"Host": host}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
