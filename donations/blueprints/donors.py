"""Donors: treasurers and admins manage them; staff may look names up."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from donations.authz import ANY_ROLE, roles_required
from donations.blueprints.donors_forms import (
    DonorForm,
    LookupForm,
    MergeForm,
    SearchForm,
    search_text,
)
from donations.extensions import db
from donations.models import Donor, GiftMethod, Role
from donations.ranges import id_arg, page_arg
from donations.services import donors, gifts, inventory, receipt_files
from donations.services.errors import NotFound
from donations.services.gift_queries import plans_of_donor, recent_gifts_of_donor
from donations.services.keyset import Position
from donations.unit_of_work import unit_of_work

bp = Blueprint("donors", __name__, url_prefix="/donors")

BOOKKEEPERS = (Role.ADMIN, Role.TREASURER)
LOOKUP_LIMIT = 20
RECENT_GIFTS = 5  # the donor's page shows the latest gifts; the gifts screen has them all


def _page() -> int:
    return page_arg()


def _load(donor_id: int) -> Donor:
    try:
        return donors.get_donor(donor_id)
    except NotFound:
        abort(404)


def _to_current(donor: Donor, endpoint: str) -> Response:
    """Redirect from a merged donor to the record it was merged into."""
    current = donors.resolve_merged(donor)
    flash(f"Donor #{donor.id} was merged into this record.", "info")
    return redirect(url_for(endpoint, donor_id=current.id))


@bp.get("/")
@roles_required(*BOOKKEEPERS)
def index():
    """List donors, searched by name or email, one page at a time."""
    search = SearchForm(request.args)
    q = search_text(search)
    page = donors.donor_page(
        text=q,
        position=Position.from_args(request.args),
        per_page=current_app.config["DONORS_PER_PAGE"],
    )
    return render_template("donors/index.html", page=page, q=q, search=search)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*BOOKKEEPERS)
def new():
    """Add a donor."""
    form = DonorForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            donor = donors.create_donor(actor=current_user, **form.donor_fields())
        if work.ok:
            flash(f"Added {donor.name}.", "success")
            return redirect(url_for("donors.detail", donor_id=donor.id))
    return render_template("donors/form.html", form=form, donor=None)


@bp.get("/<int:donor_id>")
@roles_required(*BOOKKEEPERS)
def detail(donor_id: int):
    """Show a donor's details and history."""
    donor = _load(donor_id)
    if donor.is_merged:
        return _to_current(donor, "donors.detail")
    in_kind = inventory.in_kind_gifts_of(donor.id)
    received = gifts.GiftFilters(donor_id=donor.id)
    return render_template(
        "donors/detail.html",
        donor=donor,
        gift_totals=gifts.gift_totals(received),
        recent_gifts=recent_gifts_of_donor(donor.id, limit=RECENT_GIFTS),
        plans=plans_of_donor(donor.id),
        method_labels={m.value: m.label for m in GiftMethod},
        history=donors.donor_history(donor),
        in_kind=in_kind,
        in_kind_receipts=receipt_files.in_kind_receipts([g.id for g, _reversed in in_kind]),
    )


@bp.route("/<int:donor_id>/edit", methods=["GET", "POST"])
@roles_required(*BOOKKEEPERS)
def edit(donor_id: int):
    """Change a donor's details."""
    donor = _load(donor_id)
    if donor.is_merged:
        return _to_current(donor, "donors.edit")
    form = DonorForm(obj=donor)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            donors.update_donor(actor=current_user, donor=donor, **form.donor_fields())
        if work.ok:
            flash(f"Saved {donor.name}.", "success")
            return redirect(url_for("donors.detail", donor_id=donor.id))
    return render_template("donors/form.html", form=form, donor=donor)


@bp.route("/<int:donor_id>/merge", methods=["GET", "POST"])
@roles_required(*BOOKKEEPERS)
def merge(donor_id: int):
    """Choose a duplicate donor, then merge it into this one."""
    donor = _load(donor_id)
    if donor.is_merged:
        return _to_current(donor, "donors.merge")
    form = MergeForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            other = donors.get_donor(form.other_id.data)
            label = f"#{other.id} ({other.name})"
            donors.merge_donors(actor=current_user, source=other, target=donor)
        if work.ok:
            flash(f"Merged donor {label} into this record.", "success")
            return redirect(url_for("donors.detail", donor_id=donor.id))
    elif form.is_submitted():
        form.form_errors.extend(form.other_id.errors)

    other, problem = _merge_candidate(form, donor)
    if other is not None:
        form.other_id.data = other.id
        filled = donors.fields_filled_by_merge(source=other, target=donor)
        return render_template(
            "donors/merge_confirm.html", donor=donor, other=other, form=form, filled=filled
        )
    return _merge_choose_page(donor, form, problem)


def _merge_candidate(form: MergeForm, donor: Donor) -> tuple[Donor | None, str | None]:
    """Return the duplicate chosen for merging into ``donor``, or why it cannot be merged."""
    other_id = form.other_id.data if form.is_submitted() else id_arg("other")
    other, problem = None, None
    if other_id is not None:
        with unit_of_work(read_only=True) as check:
            other = donors.get_donor(other_id)
            donors.check_mergeable(source=other, target=donor)
        if check.error is not None:
            other, problem = None, check.error.message
    return other, problem


def _merge_choose_page(donor: Donor, form: MergeForm, problem: str | None) -> str:
    """Show the search for the duplicate donor to merge into ``donor``."""
    search = SearchForm(request.args)
    q = search_text(search)
    results = None
    if q:
        results = db.paginate(
            donors.donor_search_query(text=q, exclude_id=donor.id),
            page=_page(),
            per_page=current_app.config["DONORS_PER_PAGE"],
            error_out=False,
        )
    return render_template(
        "donors/merge_choose.html",
        donor=donor,
        form=form,
        search=search,
        q=q,
        results=results,
        problem=None if form.form_errors else problem,
    )


@bp.get("/lookup")
@roles_required(*ANY_ROLE)
def lookup():
    """Find donors by name, showing names only."""
    search = LookupForm(request.args)
    q = search_text(search)
    results = donors.lookup_donors_by_name(
        text=q, limit=LOOKUP_LIMIT, show_names=donors.sees_donor_names(current_user.role)
    )
    return render_template(
        "donors/lookup.html",
        search=search,
        q=q,
        results=results,
        limit=LOOKUP_LIMIT,
        link_details=current_user.role in BOOKKEEPERS,
    )


@bp.get("/lookup.json")
@roles_required(*ANY_ROLE)
def lookup_json():
    """Return donors whose name matches, as id, name and organisation flag."""
    search = LookupForm(request.args)
    q = search_text(search)
    results = donors.lookup_donors_by_name(
        text=q, limit=LOOKUP_LIMIT, show_names=donors.sees_donor_names(current_user.role)
    )
    return jsonify(
        results=[
            {"id": donor_id, "name": name, "is_organization": is_organization}
            for donor_id, name, is_organization in results
        ]
    )
