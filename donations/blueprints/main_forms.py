"""The dashboard's form: which item and site the stock chart shows."""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from donations.models import Item, Site


class ChartForm(FlaskForm):
    """The dashboard's choice of item and site for the stock chart (a GET form)."""

    class Meta:
        csrf = False

    chart_item = SelectField("Item", default="")
    chart_site = SelectField("Site", default="")


def chart_form(args: Mapping[str, str], items: list[Item], sites: list[Site]) -> ChartForm:
    """The chart form read from the query string, offering ``items`` and ``sites``."""
    form = ChartForm(args)
    form.chart_item.choices = [SelectChoice(str(i.id), i.label) for i in items]
    form.chart_site.choices = [SelectChoice("", "All sites")] + [
        SelectChoice(str(s.id), s.name) for s in sites
    ]
    return form
