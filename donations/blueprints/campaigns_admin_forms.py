"""The campaign admin forms: a campaign, its goods goals, opening and closing it."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from donations.forms import strip_text
from donations.ranges import IdSelectField, parse_id
from donations.services import campaigns
from donations.services.errors import InvalidInput
from donations.services.funds import parse_money

GOAL_ROWS = 5


class CampaignForm(FlaskForm):
    name = StringField(
        "Name",
        filters=[strip_text],
        validators=[
            InputRequired(message="Enter the campaign's name."),
            Length(max=campaigns.NAME_MAX_LENGTH),
        ],
    )
    slug = StringField(
        "Address",
        filters=[strip_text],
        validators=[Length(max=60)],
        description="The campaign's page is /give/<address>. Leave empty to make it from "
        "the name. " + campaigns.SLUG_RULE,
    )
    starts_on = DateField(
        "Starts on", validators=[InputRequired(message="Enter the day the campaign starts.")]
    )
    ends_on = DateField(
        "Ends on (optional)",
        validators=[Optional()],
        description="After this day the page says the campaign is over.",
    )
    goal = StringField(
        "Money goal (optional)",
        filters=[strip_text],
        validators=[Length(max=30)],
        description="Such as 25,000. Leave empty for a campaign without a money goal.",
    )
    default_fund = IdSelectField("Gifts go to the fund", default="")
    story = TextAreaField(
        "Story",
        filters=[strip_text],
        validators=[Length(max=campaigns.STORY_MAX_LENGTH)],
        description="Plain text; a blank line starts a new paragraph.",
    )
    image = FileField(
        "Image (optional)",
        description=f"A JPEG, PNG, WebP or GIF of at most "
        f"{campaigns.IMAGE_MAX_BYTES // 1024 // 1024} MB; it is resized for the page. "
        "Leave empty to keep the current image.",
    )
    remove_image = BooleanField("Remove the image")

    def goal_cents(self, currency: str) -> int | None:
        """The goal in minor units, None when empty; InvalidInput (field "goal") otherwise."""
        text = self.goal.data or ""
        if not text:
            return None
        if text.lstrip().startswith("-"):
            raise InvalidInput("Enter a goal greater than zero, or leave it empty.", field="goal")
        return parse_money(text, currency, field="goal")

    def values(self, goal_cents: int | None) -> campaigns.CampaignValues:
        return campaigns.CampaignValues(
            name=self.name.data or "",
            slug=self.slug.data or "",
            starts_on=self.starts_on.data,
            ends_on=self.ends_on.data,
            goal_cents=goal_cents,
            default_fund_id=parse_id(self.default_fund.data or ""),
            story=self.story.data or "",
        )

    def uploaded_image(self) -> bytes | None:
        upload = self.image.data
        if upload is None or not getattr(upload, "filename", ""):
            return None
        return upload.read()


class StatusForm(FlaskForm):
    action = HiddenField(validators=[AnyOf(["open", "close"], message="Choose open or close.")])


class GoalRowForm(FlaskForm):
    class Meta:
        csrf = False

    item = IdSelectField("Item", default="")
    quantity = StringField("Quantity", filters=[strip_text], validators=[Length(max=12)])


class GoodsGoalsForm(FlaskForm):
    rows = FieldList(FormField(GoalRowForm), min_entries=GOAL_ROWS, max_entries=40)

    def goals(self) -> list[tuple[int, int]]:
        """The filled rows as (item id, quantity); InvalidInput (field "rows") for a bad one."""
        goals = []
        for entry in self.rows.entries:
            item, raw = entry.form.item.data or "", (entry.form.quantity.data or "").strip()
            if not item and not raw:
                continue
            item_id = parse_id(item)
            if item_id is None:
                raise InvalidInput("Choose the item of each row you fill in.", field="rows")
            if not raw.lstrip("-").isdigit():
                raise InvalidInput(
                    "Enter each quantity as a whole number, such as 40.", field="rows"
                )
            goals.append((item_id, int(raw)))
        return goals
