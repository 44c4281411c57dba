"""The forms of supporters' pages: starting and editing one, reporting one, staff's
decisions."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Email, InputRequired, Length

from donations.forms import strip_text
from donations.models import ReportReason
from donations.services import campaigns
from donations.services.errors import InvalidInput
from donations.services.funds import parse_money


class PageForm(FlaskForm):
    """A page's own values: the sign-up form adds who the supporter is."""

    title = StringField(
        "Your page's title",
        filters=[strip_text],
        validators=[
            InputRequired(message="Enter a title for your page."),
            Length(max=campaigns.PAGE_TITLE_MAX_LENGTH),
        ],
        description="Such as “Sam runs 10 km for safe beds”.",
    )
    goal = StringField(
        "Your goal",
        filters=[strip_text],
        validators=[InputRequired(message="Enter a goal greater than zero."), Length(max=30)],
        description="Such as 500.",
    )
    story = TextAreaField(
        "Why you are fundraising (optional)",
        filters=[strip_text],
        validators=[Length(max=campaigns.PAGE_STORY_MAX_LENGTH)],
        description="A few lines of plain text; a blank line starts a new paragraph. "
        "Links are shown as text. Please do not name the people the shelter serves.",
    )
    photo = FileField(
        "A photo (optional)",
        description=f"A JPEG, PNG, WebP or GIF of at most "
        f"{campaigns.IMAGE_MAX_BYTES // 1024 // 1024} MB; it is resized for the page.",
    )

    def goal_cents(self, currency: str) -> int:
        """The goal in minor units; InvalidInput (field "goal") otherwise."""
        text = self.goal.data or ""
        if not text or text.lstrip().startswith("-"):
            raise InvalidInput("Enter a goal greater than zero.", field="goal")
        return parse_money(text, currency, field="goal")

    def values(self, currency: str) -> campaigns.PageValues:
        return campaigns.PageValues(
            title=self.title.data or "",
            goal_cents=self.goal_cents(currency),
            story=self.story.data or "",
        )

    def uploaded_photo(self) -> bytes | None:
        upload = self.photo.data
        if upload is None or not getattr(upload, "filename", ""):
            return None
        return upload.read()


class StartPageForm(PageForm):
    name = StringField(
        "Your name",
        filters=[strip_text],
        validators=[DataRequired(message="Enter your name."), Length(max=120)],
        description="Shown on your page.",
    )
    email = EmailField(
        "Your email",
        filters=[strip_text],
        validators=[
            DataRequired(message="Enter your email: we send a link to confirm it."),
            Email(message="Enter your email address, like name@example.com."),
            Length(max=254),
        ],
        description="Never shown. We mail you a link to confirm it, then one for each gift.",
    )


REASON_CHOICES = [SelectChoice("", "Choose a reason")] + [
    SelectChoice(r.value, r.label) for r in ReportReason
]


class ReportForm(FlaskForm):
    reason = SelectField(
        "Why are you reporting this page?",
        choices=REASON_CHOICES,
        validators=[InputRequired(message="Choose a reason.")],
    )
    details = TextAreaField(
        "Anything else staff should know (optional)",
        filters=[strip_text],
        validators=[Length(max=500)],
    )


class DecisionForm(FlaskForm):
    action = HiddenField(
        validators=[AnyOf(list(campaigns.DECISIONS), message="Choose a decision.")]
    )
