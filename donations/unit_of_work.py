"""One commit point for views: run a request's unit of work, then commit or roll back.

A view wraps the service call(s) that change data::

    with unit_of_work(form) as work:
        donor = donors.create_donor(actor=current_user, **form.donor_fields())
    if work.ok:
        flash(f"Added {donor.name}.", "success")
        return redirect(...)
    return render_template(..., form=form)

On leaving the block normally the session is committed (a ``return`` inside the block commits
too). A ``DomainError`` raised inside rolls everything back and is shown next to the form field
it names (or above the form), or flashed when the view has no form; it never escapes the block.
Other errors the view handles itself (a payment gateway being down, say) are named in
``errors``: they roll back too and are kept on ``work.error`` for the view to answer. Anything
else rolls back and propagates. ``work.discard()`` asks for a rollback instead of the commit,
for work that must leave nothing behind.

Mail queued by services goes out only after the commit: ``services.mail`` marks it ready in the
session's ``after_commit`` hook and sends it once the response is on its way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import flash
from flask_wtf import FlaskForm

from donations.extensions import db
from donations.forms import show_domain_error
from donations.services.errors import DomainError


class Work:
    """What a unit of work came to: ``ok`` once committed, ``error`` when refused."""

    def __init__(self) -> None:
        self.ok = False
        self.error: Exception | None = None
        self._discard = False

    def discard(self) -> None:
        """Keep nothing this unit wrote: roll back at the end instead of committing."""
        self._discard = True


@contextmanager
def unit_of_work(
    form: FlaskForm | None = None,
    *,
    flash_errors: bool = False,
    errors: tuple[type[Exception], ...] = (DomainError,),
    read_only: bool = False,
) -> Iterator[Work]:
    """Commit the block's work, or roll it back and show the domain error that refused it.

    ``errors`` are the exceptions the unit answers (domain errors unless the view names others,
    e.g. a payment gateway's); any other exception rolls back and propagates. ``form`` receives a
    domain error next to its field; without a form, ``flash_errors`` flashes the message instead;
    with neither, or for a non-domain error, the view reads ``work.error`` and answers it itself.
    ``read_only=True`` is for a block that only reads or checks: its domain error is shown the
    same way, but the transaction is left as it was, neither committed nor rolled back.
    """
    work = Work()
    try:
        yield work
        if not work._discard and not read_only and db.session().in_transaction():
            # Inside the try: a refusal at commit time is answered too. A session that
            # began no transaction has nothing to commit, nor work waiting for a commit
            # (jobs and audit events are kept with the transaction they came in).
            db.session.commit()
    except errors as error:
        if not read_only:
            db.session.rollback()
        work.error = error
        if isinstance(error, DomainError):
            if form is not None:
                show_domain_error(form, error)
            elif flash_errors:
                flash(error.message, "error")
    except BaseException:
        if not read_only:
            db.session.rollback()
        raise
    else:
        if work._discard:
            db.session.rollback()
            return
        work.ok = True
