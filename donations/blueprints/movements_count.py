"""The stock count: list a site's items, review the differences, confirm the count."""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from donations.blueprints.movements_forms import CountForm, CountStartForm
from donations.blueprints.movements_lines import add_error, parse_quantity, show_error
from donations.blueprints.movements_sites import default_site_id, remember_site, site_choices
from donations.models import Item, Site
from donations.services import catalog, inventory, movement_queries
from donations.services.errors import NotAllowed
from donations.unit_of_work import unit_of_work


def _count_start_form(sites: list[Site]) -> CountStartForm:
    start = CountStartForm(request.args)
    start.site_id.choices = site_choices(sites)
    start.category_id.choices = [SelectChoice("", "No category: only the site's items")] + [
        SelectChoice(c.id, c.name) for c in catalog.list_categories()
    ]
    if "site_id" not in request.args:
        start.site_id.data = default_site_id(sites)
    return start


def _read_counts(form: CountForm) -> tuple[dict[int, int], bool]:
    """Return {item id: counted} for the rows filled in, and whether every row was valid."""
    counts: dict[int, int] = {}
    ok = True
    for entry in form.lines.entries:
        row = entry.form
        if row.item_id.errors or row.counted.errors:
            ok = False
            continue
        text = (row.counted.data or "").strip()
        if not text:
            continue
        if not row.item_id.data:
            form.form_errors.append("One of the rows names no item; list the site's items again.")
            ok = False
            continue
        counted, problem = parse_quantity(text, allow_zero=True)
        if problem:
            add_error(row.counted, problem)
            ok = False
            continue
        counts[row.item_id.data] = counted
    if ok and not counts:
        form.form_errors.append("Enter at least one counted quantity; leave uncounted items blank.")
        ok = False
    elif not ok:
        form.form_errors.append("Some counts need correcting: see the messages next to them.")
    return counts, ok


def _read_expected(form: CountForm) -> dict[int, int]:
    expected: dict[int, int] = {}
    for entry in form.lines.entries:
        row = entry.form
        text = (row.expected.data or "").strip()
        if row.item_id.data and text.isdigit():
            expected[row.item_id.data] = int(text)
    return expected


def _set_expected(form: CountForm, differences: list[inventory.CountDifference]) -> None:
    """Carry what was expected on the review into hidden fields, for the confirmation."""
    by_item = {d.item_id: d.expected for d in differences}
    for entry in form.lines.entries:
        row = entry.form
        value = by_item.get(row.item_id.data)
        row.expected.data = "" if value is None else str(value)
        row.expected.raw_data = None


def _count_item_map(form: CountForm) -> dict[int, Item]:
    ids = {entry.form.item_id.data for entry in form.lines.entries if entry.form.item_id.data}
    return movement_queries.items_by_id(ids)


@dataclass
class CountPages:
    """The three pages of a count, all with the step-one form (which site, which category)."""

    start: CountStartForm
    open_sites: dict[int, Site]

    def start_page(self, status: int = 200):
        return render_template(
            "movements/count_start.html", start=self.start, here="record"
        ), status

    def sheet(self, form: CountForm, site: Site, status: int = 200):
        return (
            render_template(
                "movements/count.html",
                start=self.start,
                form=form,
                site=site,
                items=_count_item_map(form),
                here="record",
            ),
            status,
        )

    def review(self, form: CountForm, site: Site, differences, status: int = 200):
        return (
            render_template(
                "movements/count_review.html",
                form=form,
                site=site,
                differences=differences,
                items=_count_item_map(form),
                here="record",
            ),
            status,
        )


def count():
    """Count a site's shelves in three steps: list its items, review the differences, confirm."""
    sites = movement_queries.open_sites()
    pages = CountPages(_count_start_form(sites), {site.id: site for site in sites})
    if request.method == "GET":
        return _list_items(pages)
    form = CountForm()
    site = pages.open_sites.get(form.site_id.data) if form.site_id.data else None
    if site is None:
        add_error(pages.start.site_id, "Choose an open site from the list, then count its items.")
        return pages.start_page(400)
    pages.start.site_id.data = site.id
    pages.start.category_id.data = form.category_id.data
    valid = form.validate()
    if form.edit.data:
        return pages.sheet(form, site)
    counts, counts_ok = _read_counts(form)
    if not (valid and counts_ok):
        return pages.sheet(form, site, 400)
    if form.confirm.data:
        return _confirm(pages, form, site, counts)
    with unit_of_work(read_only=True) as preview:
        differences = inventory.preview_count(
            site_id=site.id, counts=counts, note=form.note.data or ""
        )
    if preview.error is not None:
        show_error(form, preview.error)
        return pages.sheet(form, site, 400)
    _set_expected(form, differences)
    return pages.review(form, site, differences)


def _list_items(pages: CountPages):
    """Step one answered: the count sheet of the chosen site's items."""
    start = pages.start
    if not request.args.get("site_id"):
        return pages.start_page()
    site = pages.open_sites.get(start.site_id.data)
    if site is None:
        add_error(start.site_id, "Choose an open site from the list.")
        return pages.start_page(400)
    category_id = start.category_id.data
    items = movement_queries.count_items(site.id, category_id)
    form = CountForm(
        data={
            "site_id": site.id,
            "category_id": category_id,
            "lines": [{"item_id": item.id, "counted": ""} for item in items],
        }
    )
    return pages.sheet(form, site)


def _confirm(pages: CountPages, form: CountForm, site: Site, counts: dict[int, int]):
    """Record the reviewed count; review again when the stock moved meanwhile."""
    with unit_of_work() as work:
        document = inventory.record_count(
            actor=current_user,
            site_id=site.id,
            effective_date=form.effective_date.data,
            counts=counts,
            expected=_read_expected(form),
            note=form.note.data or "",
        )
    if isinstance(work.error, NotAllowed):
        form.form_errors.append(work.error.message)
        with unit_of_work(read_only=True) as again:
            differences = inventory.preview_count(site_id=site.id, counts=counts)
        if again.error is not None:
            show_error(form, again.error)
            return pages.sheet(form, site, 400)
        _set_expected(form, differences)
        return pages.review(form, site, differences, 400)
    if work.error is not None:
        show_error(form, work.error)
        return pages.sheet(form, site, 400)
    remember_site(site.id)
    changed = sum(1 for entry in document.entries if entry.quantity)
    flash(
        f"Recorded count {document.number} at {site.name}: {len(counts)} "
        f"item{'s' if len(counts) != 1 else ''} counted, {changed} changed.",
        "success",
    )
    return redirect(url_for("inventory.document", document_id=document.id))
