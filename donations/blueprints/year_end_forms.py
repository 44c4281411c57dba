"""Forms of the year-end screens: start a run for a tax year, one donor's statement."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField
from wtforms.validators import InputRequired, Optional

from donations.models import StatementBasis


class StartForm(FlaskForm):
    tax_year = SelectField(
        "Tax year",
        coerce=int,
        validators=[InputRequired(message="Choose a tax year.")],
        description="Every donor who gave money or goods in that year gets one statement.",
    )
    # Left out of the form (fiscal) when the fiscal year is the calendar year.
    basis = SelectField("Year basis", default=StatementBasis.FISCAL.value)
    confirm_open = BooleanField(
        "Send statements for a year that is not over yet",
        description="Only for a year still open: gifts still to come will not be on them.",
    )


class DonorStatementForm(FlaskForm):
    start = DateField(
        "From", validators=[Optional()], description="The first day the statement covers."
    )
    end = DateField(
        "To (inclusive)", validators=[Optional()], description="The last day it covers."
    )
    email = BooleanField("Email it to the donor with the PDF attached", default=True)


def basis_choices(start_month: int) -> list[tuple[str, str]]:
    """The two yearly bases, the fiscal one spelled out from its first and last month."""
    first = date(2000, start_month, 1)
    last = date(2000, (start_month - 2) % 12 + 1, 1)
    return [
        (
            StatementBasis.FISCAL.value,
            f"Fiscal year ({first:%B} to {last:%B}, named by the year it ends in)",
        ),
        (StatementBasis.CALENDAR.value, "Calendar year (January to December)"),
    ]


def start_form(years: list[int], default: int, start_month: int, **kwargs) -> StartForm:
    """The start form with the years that had gifts; the last closed one chosen first."""
    form = StartForm(**kwargs)
    form.tax_year.choices = [(y, str(y)) for y in years]
    form.basis.choices = basis_choices(start_month)
    if form.tax_year.data is None and years:
        closed = [y for y in years if y <= default]
        form.tax_year.data = default if default in years else (closed or years)[0]
    return form
