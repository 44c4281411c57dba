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
Other errors the view handles itself (a payment gateway being down, say) are named in ``catch``:
they roll back too and are kept on ``work.error`` for the view to answer. Anything else rolls
back and propagates. ``work.discard()`` asks for a rollback instead of the commit, for work that
must leave nothing behind.

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
    catch: tuple[type[Exception], ...] = (),
    commit: bool = True,
) -> Iterator[Work]:
    """Commit the block's work, or roll it back and show the domain error that refused it.

    ``form`` receives a domain error next to its field; without a form, ``flash_errors`` flashes
    the message instead; with neither, the view reads ``work.error`` and answers it itself.
    ``commit=False`` is for a block that only checks something: its domain error is handled the
    same way, but success leaves the transaction as it was (``work.ok`` is still set).
    """
    work = Work()
    try:
        yield work
    except DomainError as error:
        db.session.rollback()
        work.error = error
        if form is not None:
            show_domain_error(form, error)
        elif flash_errors:
            flash(error.message, "error")
    except catch as error:
        db.session.rollback()
        work.error = error
    except BaseException:
        db.session.rollback()
        raise
    else:
        if work._discard:
            db.session.rollback()
            return
        if commit:
            db.session.commit()
        work.ok = True
