"""Volunteers' public pages: sign up, confirm the email, and their own page by a signed
link (shifts, signing up and cancelling, hours, the letter of hours). No password.

A confidential site's address never appears here: only in the signed-up volunteer's mail.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    url_for,
)
from wtforms.fields.choices import SelectChoice

from donations.authz import public
from donations.blueprints.secret_pages import private
from donations.blueprints.volunteers_forms import LinkForm, SignUpForm
from donations.errors import render_error
from donations.extensions import limiter
from donations.forms import EmptyForm
from donations.services import volunteers
from donations.unit_of_work import unit_of_work

bp = Blueprint("volunteer_public", __name__, url_prefix="/volunteer")

RENDER_MODULE = "donations.pdf.volunteer_letter"
SIGNED_UP = (
    "Thank you. We have sent a link to {email}: open it to confirm your address. "
    "If you signed up before with this address, nothing was duplicated: the email says so."
)
LINK_SENT = (
    "If that address has signed up, we have sent a link to it. "
    "Check your spam folder if it does not arrive."
)
LINK_GONE = (
    "This link no longer works: links to your volunteer page work for 30 days, and the "
    "whole link must be copied. Ask for a new one with your email."
)


def _limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _gone():
    return render_error(
        404, LINK_GONE, (url_for("volunteer_public.request_link"), "Email me a new link")
    )


@bp.route("", methods=["GET", "POST"])
@public
@limiter.limit(_limit, methods=["POST"])
def sign_up():
    """Offer to volunteer: the form; the sign-up counts once the mailed link is opened."""
    form = SignUpForm()
    form.skills.choices = [SelectChoice(name, name) for name, _ in volunteers.offered_skills()]
    form.days.choices = [SelectChoice(code, label) for code, label in volunteers.WEEKDAYS]
    if form.validate_on_submit():
        application = volunteers.Application(
            name=form.name.data or "",
            email=form.email.data or "",
            accepted_terms=bool(form.terms.data),
            phone=form.phone.data or "",
            profession=form.profession.data or "",
            skills=list(form.skills.data or []),
            languages=form.languages.data or "",
            availability=form.availability.data or "",
            available_days=list(form.days.data or []),
        )
        with unit_of_work(form) as work:
            volunteers.sign_up_volunteer(application=application)
        if work.ok:
            flash(SIGNED_UP.format(email=application.email.strip().lower()), "success")
            return redirect(url_for("volunteer_public.sign_up"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("volunteer_public/sign_up.html", form=form), status


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@public
def confirm(token: str):
    """Confirm the email a sign-up gave: the mailed link opens a page with one button
    (a GET changes nothing, so a mail scanner opening links confirms nothing)."""
    volunteer = volunteers.volunteer_to_confirm(token)
    if volunteer is None:
        return render_error(
            404,
            "This confirmation link does not work: it may have expired (links work for 7 days) "
            "or be cut short. Sign up again with the same email to get a new one.",
            (url_for("volunteer_public.sign_up"), "Sign up"),
        )
    form = EmptyForm()
    if form.validate_on_submit():
        with unit_of_work():
            volunteers.confirm_email(token=token)
        flash("Your email is confirmed. Staff will review your offer and email you.", "success")
    elif volunteer.email_verified_at is None:
        page = render_template("volunteer_public/confirm.html", volunteer=volunteer, form=form)
        return private(make_response(page))
    target = url_for("volunteer_public.my_page", token=volunteers.page_token(volunteer))
    return private(redirect(target))


@bp.route("/link", methods=["GET", "POST"])
@public
@limiter.limit(_limit, methods=["POST"])
def request_link():
    """Email a volunteer a new link to their page, without saying whether they are known."""
    form = LinkForm()
    if form.validate_on_submit():
        with unit_of_work():
            volunteers.request_page_link(email=form.email.data or "")
        flash(LINK_SENT, "info")
        return redirect(url_for("volunteer_public.request_link"))
    status = 400 if form.errors else 200
    return render_template("volunteer_public/request_link.html", form=form), status


@bp.get("/me/<token>")
@public
def my_page(token: str):
    """A volunteer's own page: their shifts, open shifts to sign up for, their hours."""
    volunteer = volunteers.volunteer_for_token(token)
    if volunteer is None:
        return _gone()
    page = volunteers.volunteer_page(volunteer=volunteer)
    response = make_response(
        render_template("volunteer_public/my_page.html", page=page, token=token, form=EmptyForm())
    )
    return private(response)


def _shift_action(token: str, shift_id: int, action: str):
    volunteer = volunteers.volunteer_for_token(token)
    if volunteer is None:
        return _gone()
    form = EmptyForm()
    if form.validate_on_submit():
        with unit_of_work(flash_errors=True) as work:
            if action == "sign_up":
                signup = volunteers.sign_up_for_shift(volunteer=volunteer, shift_id=shift_id)
            else:
                signup = volunteers.cancel_signup(volunteer=volunteer, shift_id=shift_id)
        if work.ok:
            title = signup.shift.opportunity.title
            flash(
                f"You are signed up for {title}. We have emailed you the details."
                if action == "sign_up"
                else f"You are no longer signed up for {title}.",
                "success",
            )
    else:
        flash("This form had expired: nothing was changed. Try again.", "error")
    return private(redirect(url_for("volunteer_public.my_page", token=token)))


@bp.post("/me/<token>/shifts/<int:shift_id>/sign-up")
@public
def sign_up_for_shift(token: str, shift_id: int):
    """Sign up for an open shift."""
    return _shift_action(token, shift_id, "sign_up")


@bp.post("/me/<token>/shifts/<int:shift_id>/cancel")
@public
def cancel_shift(token: str, shift_id: int):
    """Cancel a shift that has not started."""
    return _shift_action(token, shift_id, "cancel")


@bp.get("/me/<token>/letter.pdf")
@public
def letter(token: str):
    """The letter of hours as a PDF; a clear message when there are no hours yet."""
    volunteer = volunteers.volunteer_for_token(token)
    if volunteer is None:
        return _gone()
    with unit_of_work(read_only=True, flash_errors=True) as work:
        try:
            data = volunteers.letter_pdf(volunteer=volunteer)
        except ModuleNotFoundError as error:
            if error.name != RENDER_MODULE:
                raise
            return render_error(503, "The letter cannot be made just now. Try again later.")
    if work.error is not None:
        return private(redirect(url_for("volunteer_public.my_page", token=token)))
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = 'attachment; filename="volunteer-hours.pdf"'
    return private(response)
