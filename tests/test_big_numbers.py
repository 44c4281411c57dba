"""Numbers beyond range never give a 500.

Every route in the URL map, with every role, gets huge (2**70, 10**30), negative and
non-numeric values for each ``<int:...>`` path argument, for ``?page=`` and the other
integer query arguments, and in every integer-ish field of every form the app shows.
The answer is a page (404 or the form again with an error), never a 500, and the data
is as it was.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
import test_access as access
from sqlalchemy import func, select

from conftest import sign_in
from donations.extensions import db
from donations.models import Role

HUGE = (str(2**70), str(10**30), str(2**63), str(2**31))
BAD = (*HUGE, "-1", "-99999999999999999999", "abc", "1.5")
QUERY_INTS = ("page", "donor_id", "item", "site_id", "other", "copies", "scale", "fund", "year")
ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
INTEGERISH = re.compile(
    r"(^|[-_])(ids?|page|fund|site|item|donor|other|quantity|qty|count|counted|sort_order|"
    r"copies|year|tax_year|month|position|par|level|minimum|target)([-_]|$)|_id$|_cents$",
    re.I,
)


def _row_counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def _path(rule, value: str, objects: dict[str, Any]) -> str:
    def fill(match: re.Match) -> str:
        converter, name = match.group(1), match.group(2)
        if converter == "int":
            return value
        return str(objects.get(name, "x"))

    return ARG.sub(fill, rule.rule)


def _clients(app, create_user) -> list[tuple[str, Any]]:
    clients = [("anonymous", app.test_client())]
    for role in Role:
        clients.append((role.value, sign_in(app.test_client(), create_user(role))))
    return clients


@pytest.fixture
def world(app, create_user, create_donor, goods):
    donor = create_donor("Range Donor")
    target = create_user(Role.STAFF, email="range-target@example.org")
    built = {"user_id": target.id, "donor_id": donor.id, **access._goods_objects(goods, donor)}
    built.update(access._give_objects())
    built.update(access._receipt_objects(goods, donor))
    return built


def _status(client, method: str, url: str, **kwargs: Any) -> int:
    """The response's status; an exception escaping the view (TESTING) counts as a 500."""
    try:
        return client.open(url, method=method, **kwargs).status_code
    except Exception as error:
        db.session.rollback()
        return 500 if not isinstance(error, AssertionError) else 599


def _rules(app, *, with_int: bool | None = None):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        has_int = any(c == "int" for c, _n in ARG.findall(rule.rule))
        if with_int is None or has_int == with_int:
            yield rule


def test_huge_and_negative_ids_in_paths_are_404(app, create_user, world):
    clients = _clients(app, create_user)
    before = _row_counts()
    failures = []
    for who, client in clients:
        for rule in _rules(app, with_int=True):
            for value in (*HUGE, "-1", "-0"):
                url = _path(rule, value, world)
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    status = _status(client, method, url, data={})
                    if status >= 500 or (who != "anonymous" and value in HUGE and status != 404):
                        failures.append(f"{who} {method} {url} -> {status}")
    assert failures == [], "\n".join(failures)
    assert _row_counts() == before


@pytest.mark.parametrize("value", BAD)
def test_page_and_id_query_arguments_never_500(app, create_user, world, value):
    clients = _clients(app, create_user)
    before = _row_counts()
    failures = []
    query = "&".join(f"{name}={value}" for name in QUERY_INTS)
    for who, client in clients:
        for rule in _rules(app):
            if "GET" not in rule.methods:
                continue
            url = _path(rule, "1", world) + "?" + query
            status = _status(client, "GET", url)
            if status >= 500:
                failures.append(f"{who} GET {url} -> {status}")
    assert failures == [], "\n".join(failures)
    assert _row_counts() == before


class _Forms(HTMLParser):
    """The POST forms of a page: action and fields with the values the page shows."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get")})
            self.forms[-1]["fields"] = {}
            self.forms[-1]["numeric"] = set()
            return
        if not self.forms:
            return
        form = self.forms[-1]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                form["fields"].setdefault(name, None)
                if kind == "radio" and a.get("value", "").isdigit():
                    form["numeric"].add(name)
                return
            form["fields"][name] = a.get("value", "")
            if kind == "number" or INTEGERISH.search(name):
                form["numeric"].add(name)
        elif tag == "select" and name:
            self._select = name
            form["fields"].setdefault(name, None)
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if value.isdigit():
                form["numeric"].add(self._select)
            if form["fields"].get(self._select) is None or "selected" in a:
                form["fields"][self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            form["fields"][name] = ""

    def handle_endtag(self, tag) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data) -> None:
        if self._textarea and self.forms:
            self.forms[-1]["fields"][self._textarea] += data


def _post_forms(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return [f for f in parser.forms if f["method"].lower() == "post" and f["numeric"]]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.STAFF, Role.TREASURER])
def test_integer_fields_of_every_form_never_500(app, create_user, world, role):
    client = sign_in(app.test_client(), create_user(role))
    failures = []
    seen = set()
    for rule in _rules(app):
        if "GET" not in rule.methods or rule.arguments - set(world) - {"customer"}:
            continue
        if "customer" in rule.arguments:
            continue
        url = ARG.sub(lambda m: str(world.get(m.group(2), 1)), rule.rule)
        page = client.get(url)
        if page.status_code != 200 or "html" not in page.content_type:
            continue
        for form in _post_forms(page.get_data(as_text=True)):
            action = form["action"] or url
            if (
                action.startswith(("http", "/logout", "/give/checkout"))
                or (action, rule.rule) in seen
            ):
                continue
            seen.add((action, rule.rule))
            base = {k: v for k, v in form["fields"].items() if v is not None}
            for name in sorted(form["numeric"]):
                for value in BAD:
                    before = _row_counts()
                    status = _status(client, "POST", action, data={**base, name: value})
                    if status >= 500:
                        failures.append(f"{role} POST {action} {name}={value} -> 500")
                    elif value in HUGE and _row_counts() != before:
                        failures.append(f"{role} POST {action} {name}={value} changed data")
    assert failures == [], "\n".join(failures)


# --- the forms the issue names, each with otherwise valid input ------------------


def test_a_huge_default_fund_is_a_form_error(app, admin_client):
    from donations.services import giving

    giving.ensure_default_funds()
    db.session.commit()
    form = _post_forms(admin_client.get("/admin/giving").get_data(as_text=True))[0]
    data = {k: v for k, v in form["fields"].items() if v is not None}
    assert admin_client.post("/admin/giving", data=data).status_code == 302  # valid as shown
    for value in (str(2**70), str(10**30), "-3", "abc"):
        before = _row_counts()
        response = admin_client.post("/admin/giving", data={**data, "default_fund": value})
        assert response.status_code in (200, 400)  # the form again, with the error
        assert "Choose one from the list." in response.get_data(as_text=True)
        assert _row_counts() == before


def _intake(goods, **changes: str) -> dict[str, str]:
    from datetime import date

    return {
        "site_id": str(goods.shelter.id),
        "effective_date": date.today().isoformat(),
        "source": "donor",
        "lines-0-item": "SOCKS-M",
        "lines-0-quantity": "2",
        "lines-0-condition": "new",
        **changes,
    }


def test_a_huge_donor_on_the_intake_form_is_a_form_error(app, staff_client, goods, create_donor):
    donor = create_donor("Real Donor")
    for value in (str(2**70), str(10**30), str(2**31)):
        before = _row_counts()
        response = staff_client.post("/inventory/intake/new", data=_intake(goods, donor_id=value))
        assert response.status_code in (200, 400)  # the form again, with the error
        assert f"There is no donor #{value}" in response.get_data(as_text=True)
        assert _row_counts() == before
    response = staff_client.post("/inventory/intake/new", data=_intake(goods, donor_id=donor.id))
    assert response.status_code == 302  # the same form with a real donor is recorded


@pytest.mark.parametrize("field", ["lines-0-quantity", "site_id", "lines-0-item"])
@pytest.mark.parametrize("value", [str(2**31), str(2**70), str(10**30), "-5", "x1"])
def test_out_of_range_intake_values_leave_the_stock_alone(app, staff_client, goods, field, value):
    """On PostgreSQL a quantity past int4 used to be a 500 ("integer out of range")."""
    before = _row_counts()
    response = staff_client.post("/inventory/intake/new", data=_intake(goods, **{field: value}))
    assert response.status_code in (200, 400)  # the form again, with the error
    assert "form-errors" in response.get_data(as_text=True)
    assert _row_counts() == before
