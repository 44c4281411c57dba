"""The line documents (intake, distribution, transfer, adjustment): one view, one spec each.

The item lines are server-rendered rows (a FieldList); "Add more rows" re-renders
with more, keeping what was typed, so everything works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from donations.blueprints.movements_forms import (
    AdjustmentForm,
    DistributionForm,
    DonorSearchForm,
    IntakeForm,
    LinesForm,
    TransferForm,
)
from donations.blueprints.movements_lines import (
    ReadLines,
    add_error,
    add_rows,
    focus_after_add,
    read_lines,
    recognised,
    show_error,
)
from donations.blueprints.movements_sites import default_site_id, remember_site, site_choices
from donations.models import Donor, Site, StockDocument
from donations.money import AmountError, parse_amount
from donations.ranges import id_arg
from donations.services import campaigns, catalog, inventory, movement_queries
from donations.services import donors as donor_service
from donations.services import recipients as recipient_service
from donations.services.errors import NotFound
from donations.services.giving import default_currency
from donations.unit_of_work import unit_of_work

DONOR_CHOICES_LIMIT = 20

Page = dict[str, Any]  # what the template gets besides the form, built up per request


def _nothing(*_args: Any) -> None:
    return None


def _no_context(*_args: Any) -> Page:
    return {}


@dataclass(frozen=True)
class LineDocument:
    """What sets one kind of line document apart; the rest is ``record_document``."""

    name: str  # the endpoint, movements.<name>
    path: str
    summary: str  # the view's docstring
    title: str  # the page's title and heading
    form: type[LinesForm]
    record: Callable[..., StockDocument]  # the service that posts it
    arguments: Callable[[Any, Page], dict[str, Any]]  # its own arguments, from the form
    message: Callable[[StockDocument, str], str]  # the flash, given the units moved
    setup: Callable[[Any, list[Site]], Page] = _no_context  # choices; returns page context
    on_get: Callable[[Any], None] = _nothing  # defaults from the query string
    check: Callable[[Any, Page], bool] | None = None  # checks beyond the form's own
    finish: Callable[[Any, Page], None] = _nothing  # context computed after a POST
    with_condition: bool = False  # rows have a condition column


def record_document(kind: LineDocument):
    """Show the form of a line document, or record it and go to the document."""
    form = kind.form()
    sites = movement_queries.open_sites()
    form.site_id.choices = site_choices(sites)
    page = kind.setup(form, sites)
    status, read, focus = 200, None, None
    if not form.is_submitted():
        form.site_id.data = default_site_id(sites)
        kind.on_get(form)
    else:
        check = partial(kind.check, form, page) if kind.check else None
        post = partial(_post, kind, form, page)
        outcome, read, focus = post_lines(
            form, with_condition=kind.with_condition, before=check, post=post
        )
        if not isinstance(outcome, int):
            return outcome
        status = outcome
    kind.finish(form, page)
    return (
        render_template(
            "movements/document_form.html",
            kind=kind,
            form=form,
            item_options=catalog.active_items(),
            names=read.names if read else {},
            focus=focus,
            here="record",
            **page,
        ),
        status,
    )


def post_lines(
    form: LinesForm,
    *,
    with_condition: bool = False,
    before: Callable[[], bool] | None = None,
    post: Callable[[list[inventory.Line]], tuple[StockDocument, str]],
) -> tuple[Any, ReadLines | None, str | None]:
    """Handle a multi-line form's POST.

    Returns (redirect, None, None) once the document is recorded, else
    (status, the rows read, the field to focus) for re-rendering.
    """
    if form.add_rows.data:
        add_rows(form)
        return 200, recognised(form.lines), focus_after_add(form.lines)
    valid = form.validate()
    read = read_lines(form.lines, with_condition=with_condition)
    if before is not None:
        valid = before() and valid
    if not read.ok:
        form.form_errors.append(
            "Some rows need correcting: see the messages next to them."
            if valid
            else "Please correct the fields and rows marked below."
        )
    if valid and read.ok:
        with unit_of_work() as work:
            document, message = post(read.lines)
        if work.error is not None:
            show_error(form, work.error, read)
        else:
            remember_site(form.site_id.data)
            flash(message, "success")
            return redirect(url_for("inventory.document", document_id=document.id)), None, None
    return 400, read, None


def units(lines: Iterable[inventory.Line]) -> str:
    """How many units the lines move, such as "3 units"."""
    total = sum(line.quantity for line in lines)
    return f"{total} unit{'s' if total != 1 else ''}"


def _post(
    kind: LineDocument, form: LinesForm, page: Page, lines: list[inventory.Line]
) -> tuple[StockDocument, str]:
    """Post the document with its kind's service; return it and the message to flash."""
    document = kind.record(
        actor=current_user,
        effective_date=form.effective_date.data,
        lines=lines,
        note=form.note.data or "",
        **kind.arguments(form, page),
    )
    return document, kind.message(document, units(lines))


# --- intake ---------------------------------------------------------------------------


def _intake_setup(form: IntakeForm, sites: list[Site]) -> Page:
    form.campaign_id.choices = [
        SelectChoice("", "No campaign"),
        *(SelectChoice(str(c.id), c.name) for c in campaigns.public_campaigns()),
    ]
    return {"currency": default_currency()}


def _intake_on_get(form: IntakeForm) -> None:
    donor_id = id_arg("donor_id")
    if donor_id:
        form.donor_id.data = donor_id
    if donor_id or request.args.get("q"):
        form.source.data = "donor"


def _intake_check(form: IntakeForm, page: Page) -> bool:
    """Read the donor's own estimate of the value, when goods came from a known donor."""
    if form.source.data != "donor" or not form.donor_value.data:
        return True
    try:
        page["donor_value_cents"] = parse_amount(form.donor_value.data, page["currency"])
    except AmountError as error:
        add_error(form.donor_value, str(error))
        return False
    return True


def _intake_arguments(form: IntakeForm, page: Page) -> dict[str, Any]:
    campaign = form.campaign_id.data or ""
    return {
        "site_id": form.site_id.data,
        "source": form.source.data,
        "donor_id": form.donor_id.data,
        "drive_name": form.drive_name.data or "",
        "donor_value_cents": page.get("donor_value_cents"),
        "currency": page["currency"],
        "campaign_id": int(campaign) if campaign.isdigit() else None,
    }


def _intake_message(document: StockDocument, units_moved: str) -> str:
    where = f"{units_moved} received at {document.site.name}"
    if document.donor is not None:
        who = donor_service.visible_name(donor=document.donor, role=current_user.role)
        return f"Recorded {document.number}: {where}, and an in-kind gift from {who}."
    return f"Recorded {document.number}: {where}."


def _donor_choice(donor_id: int | None) -> tuple[Donor | None, dict[str, Any]]:
    """Return the chosen donor (the record in use) and the donor search to show."""
    donor = None
    if donor_id:
        try:
            donor = donor_service.resolve_merged(donor_service.get_donor(donor_id))
        except NotFound:
            donor = None
    search = DonorSearchForm(request.args)
    q = (search.q.data or "") if search.validate() else ""
    results = None
    if q:
        results = donor_service.lookup_donors_by_name(
            text=q,
            limit=DONOR_CHOICES_LIMIT + 1,
            show_names=donor_service.sees_donor_names(current_user.role),
        )
    return donor, {
        "search": search,
        "q": q,
        "results": results[:DONOR_CHOICES_LIMIT] if results is not None else None,
        "more": results is not None and len(results) > DONOR_CHOICES_LIMIT,
    }


def _intake_finish(form: IntakeForm, page: Page) -> None:
    donor, choice = _donor_choice(form.donor_id.data)
    if donor is not None:
        form.donor_id.data = donor.id
    page.update(donor=donor, choice=choice)


# --- distribution -------------------------------------------------------------------------


def _distribution_setup(form: DistributionForm, sites: list[Site]) -> Page:
    """Open programs and partner agencies: the only recipients a distribution may name."""
    form.recipient_id.choices = [SelectChoice("", "Choose a program or partner agency")] + [
        SelectChoice(r.id, f"{r.name} ({r.kind_label.lower()})")
        for r in recipient_service.list_recipients(include_archived=False)
    ]
    return {
        "has_recipients": len(form.recipient_id.choices) > 1,
        "case_code_max": inventory.CASE_CODE_MAX_LENGTH,
    }


def _distribution_arguments(form: DistributionForm, page: Page) -> dict[str, Any]:
    return {
        "site_id": form.site_id.data,
        "recipient_id": form.recipient_id.data,
        "case_code": form.case_code.data or "",
    }


# --- transfer -----------------------------------------------------------------------------


def _transfer_setup(form: TransferForm, sites: list[Site]) -> Page:
    form.to_site_id.choices = site_choices(sites)
    return {}


def _transfer_check(form: TransferForm, page: Page) -> bool:
    if form.site_id.data and form.site_id.data == form.to_site_id.data:
        add_error(form.to_site_id, "Choose a different site from the one goods leave.")
        return False
    return True


# --- adjustment ---------------------------------------------------------------------------


def _adjustment_on_get(form: AdjustmentForm) -> None:
    reason = request.args.get("reason", "")
    if reason in inventory.REASON_LABELS:
        form.reason.data = reason


def _adjustment_arguments(form: AdjustmentForm, page: Page) -> dict[str, Any]:
    return {
        "site_id": form.site_id.data,
        "reason": form.reason.data or "",
        "direction": form.direction.data or "",
    }


def _adjustment_message(document: StockDocument, units_moved: str) -> str:
    added = any(entry.quantity > 0 for entry in document.entries)
    word = "added to" if added else "removed from"
    reason_label = inventory.REASON_LABELS[document.reason].lower()
    return (
        f"Recorded {document.number}: {units_moved} {word} {document.site.name} ({reason_label})."
    )


LINE_DOCUMENTS = (
    LineDocument(
        name="intake",
        path="/intake/new",
        summary=(
            "Record goods received at a site: from a known donor, a drive or an anonymous drop-off."
        ),
        title="Record goods received",
        form=IntakeForm,
        record=inventory.record_intake,
        arguments=_intake_arguments,
        message=_intake_message,
        setup=_intake_setup,
        on_get=_intake_on_get,
        check=_intake_check,
        finish=_intake_finish,
        with_condition=True,
    ),
    LineDocument(
        name="distribution",
        path="/distribution/new",
        summary="Record goods given out to a program or partner agency.",
        title="Record goods given out",
        form=DistributionForm,
        record=inventory.record_distribution,
        arguments=_distribution_arguments,
        message=lambda document, units_moved: (
            f"Recorded {document.number}: {units_moved} given out from "
            f"{document.site.name} to {document.recipient}."
        ),
        setup=_distribution_setup,
    ),
    LineDocument(
        name="transfer",
        path="/transfer/new",
        summary="Record goods moved from one site to another.",
        title="Record a transfer between sites",
        form=TransferForm,
        record=inventory.record_transfer,
        arguments=lambda form, page: {
            "from_site_id": form.site_id.data,
            "to_site_id": form.to_site_id.data,
        },
        message=lambda document, units_moved: (
            f"Recorded {document.number}: {units_moved} moved from "
            f"{document.site.name} to {document.to_site.name}."
        ),
        setup=_transfer_setup,
        check=_transfer_check,
    ),
    LineDocument(
        name="adjustment",
        path="/adjustment/new",
        summary="Record stock found, or damaged, expired or lost, or changed for another reason.",
        title="Record an adjustment",
        form=AdjustmentForm,
        record=inventory.record_adjustment,
        arguments=_adjustment_arguments,
        message=_adjustment_message,
        on_get=_adjustment_on_get,
        setup=lambda form, sites: {"reasons": inventory.REASON_LABELS},
    ),
)
