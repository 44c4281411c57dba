"""The admin screens' forms: users, the organisation profile and its payment settings."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from donations.blueprints.movements_forms import coerce_id
from donations.models import Recipient, Role, User
from donations.money import AmountError, parse_amount
from donations.services import accounts

ROLE_CHOICES = [
    SelectChoice(Role.STAFF.value, "Staff: goods in and out, stock counts"),
    SelectChoice(Role.TREASURER.value, "Treasurer: gifts, donors, receipts, exports"),
    SelectChoice(Role.ADMIN.value, "Admin: everything, including users and settings"),
]


PARTNER_CHOICE = SelectChoice(
    Role.PARTNER.value, "Partner: asks for goods for one partner agency, sees nothing else"
)
AGENCY_HINT = (
    "For a partner login only: the agency it asks for goods for and whose requests it "
    "sees. Leave blank for everyone else."
)


def partner_role_choice(user: User) -> SelectChoice:
    """The one role a partner agency's login may have."""
    recipient = user.membership.recipient if user.membership is not None else None
    agency = recipient.name if recipient is not None else "a partner agency"
    return SelectChoice(Role.PARTNER.value, f"Partner login for {agency}: its goods requests only")


def agency_choices(agencies: list[Recipient], *, current: Recipient | None = None) -> list:
    """The open partner agencies to choose from (and a login's own, even if archived)."""
    shown = list(agencies)
    if current is not None and current not in shown:
        shown.append(current)
    return [SelectChoice("", "No agency (not a partner login)")] + [
        SelectChoice(a.id, a.name if a.active else f"{a.name} (archived)") for a in shown
    ]


MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip


class UserForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.STAFF.value)
    # Checked by accounts.create_user / update_user: a partner agency, for a partner only.
    recipient_id = SelectField(
        "Partner agency", coerce=coerce_id, validate_choice=False, description=AGENCY_HINT
    )


class NewUserForm(UserForm):
    role = SelectField("Role", choices=[*ROLE_CHOICES, PARTNER_CHOICE], default=Role.STAFF.value)
    password = PasswordField(
        "Initial password",
        validators=[DataRequired(), Length(max=accounts.PASSWORD_MAX_LENGTH)],
        description="Share it with the person privately; they can change it after signing in.",
    )
    confirm = PasswordField(
        "Initial password again",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )
    submit = SubmitField("Create user")


class EditUserForm(UserForm):
    active = BooleanField("Active (may sign in)")
    submit = SubmitField("Save changes")


class OrganizationForm(FlaskForm):
    legal_name = StringField("Legal name", validators=[DataRequired(), Length(max=200)])
    tax_id = StringField(
        "Tax id / EIN",
        validators=[Length(max=20)],
        description="For a US organisation, the EIN as NN-NNNNNNN.",
    )
    address_line1 = StringField("Address line 1", validators=[Length(max=200)])
    address_line2 = StringField("Address line 2", validators=[Length(max=200)])
    city = StringField("City", validators=[Length(max=100)])
    region = StringField("State or region", validators=[Length(max=100)])
    postal_code = StringField("Postal code", validators=[Length(max=20)])
    country = StringField("Country", validators=[Length(max=100)])
    phone = StringField("Phone", validators=[Length(max=40)])
    email = EmailField("Contact email", validators=[Optional(), Email(), Length(max=254)])
    website = StringField("Website", validators=[Length(max=200)])
    signatory_name = StringField("Receipt signatory name", validators=[Length(max=120)])
    signatory_title = StringField("Receipt signatory title", validators=[Length(max=120)])
    receipt_footer = TextAreaField("Receipt footer text", validators=[Length(max=2000)])
    public_story = TextAreaField(
        "Our story",
        validators=[Length(max=2000)],
        description="A few sentences for the public home page, in plain text; a blank line "
        "starts a new paragraph. Never name a shelter's address here.",
    )
    default_currency = StringField(
        "Default currency",
        validators=[DataRequired(), Length(min=3, max=3, message="Use a three-letter code.")],
        description="ISO 4217 code, such as USD.",
    )
    fiscal_year_start_month = SelectField(
        "Fiscal year starts in",
        choices=[SelectChoice(i, name) for i, name in enumerate(MONTHS, start=1)],
        coerce=int,
        default=1,
    )
    require_two_factor = BooleanField(
        "Require two-step sign-in for admins and treasurers",
        default=True,
        description=(
            "They then enter a code from an authenticator app after their password; "
            "anyone without one sets it up at their next sign-in."
        ),
    )
    host = SelectField(
        "Our own host name (optional)",
        choices=[SelectChoice("", "None: our pages are under the coalition's address")],
        default="",
        validate_choice=False,  # the service checks it against the server's settings
        description=(
            "Serve our pages at a host name of our own, such as give.ourshelter.org: one "
            "the server is set up for (its DNS points here). Links in mail and on receipts "
            "then use it."
        ),
    )
    shares_figures = BooleanField(
        "Show our gift counts and totals in the coalition report",
        default=False,
        description=(
            "The coalition admin then sees how many gifts we received and their totals per "
            "period; never a donor. Goods received and distributed are always counted."
        ),
    )
    case_code_pattern = StringField(
        "Case-code pattern (optional)",
        validators=[Length(max=200)],
        description=(
            "A regular expression every case code on a distribution must match in full, "
            "in capitals, such as C-[0-9]{3}. Leave blank for the default: up to 12 letters, "
            "digits and hyphens with at least one digit. Codes that read like a name are "
            "refused whatever the pattern."
        ),
    )
    embed_origins = TextAreaField(
        "Sites allowed to embed the donation form",
        validators=[Length(max=6000)],
        description=(
            "One site a line, as https:// and its host name, such as https://www.example.org "
            "(https://*.example.org for all its subdomains). Only these sites may show a "
            "campaign's compact donation form in a frame on their pages. Blank: none may."
        ),
    )
    volunteer_hour_value = StringField(
        "Value of a volunteer hour (optional)",
        validators=[Length(max=30)],
        description=(
            "For the grant report only, never on a letter: what an hour of volunteers' time "
            "is worth, such as Independent Sector's value of volunteer time for your state. "
            'Leave blank until you have chosen one: the report then says "not set".'
        ),
    )
    submit = SubmitField("Save settings")

    # Set by the view: the currency the hour value is read in; read by the view after
    # validation.
    currency = "USD"
    volunteer_hour_value_cents: int | None = None

    def validate_volunteer_hour_value(self, field: StringField) -> None:
        self.volunteer_hour_value_cents = None
        text = (field.data or "").strip()
        if not text:
            return
        try:
            self.volunteer_hour_value_cents = parse_amount(text, self.currency)
        except AmountError as error:
            raise ValidationError(str(error)) from None


class PaymentSettingsForm(FlaskForm):
    """The organisation's Stripe keys: blank keeps what is stored; nothing is ever shown back."""

    secret_key = PasswordField(
        "Secret key",
        validators=[Length(max=255)],
        description="sk_live_… or sk_test_… (a restricted key, rk_…, works too).",
    )
    publishable_key = StringField(
        "Publishable key (optional)",
        validators=[Length(max=255)],
        description="pk_live_… or pk_test_…",
    )
    webhook_secret = PasswordField(
        "Webhook signing secret",
        validators=[Length(max=255)],
        description="whsec_…: the signing secret of this site's endpoint in Stripe's dashboard.",
    )
    test_mode = BooleanField(
        "Test mode",
        description=(
            "Receipts are marked TEST and numbered apart. Keep it on with test keys; untick it "
            "with live keys to take real gifts."
        ),
    )
    submit = SubmitField("Save payment settings")
