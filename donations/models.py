"""Tables, their constraints and tiny derived properties. Nothing here commits.

Workflows (creating users, merging donors, sending mail) live in
``donations/services``; this module only says what a valid row is.
"""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    func,
    inspect,
    select,
    true,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from donations.extensions import db
from donations.tenancy import OrgScoped, current_organization_id

# The largest id or quantity an Integer column holds (int4 on PostgreSQL): anything larger
# is simply not there, and is never sent to the database.
MAX_ROW_ID = 2**31 - 1


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC on every database.

    SQLite keeps no zone, so values read back are marked UTC again here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Role(enum.StrEnum):
    ADMIN = "admin"
    TREASURER = "treasurer"
    STAFF = "staff"
    # A partner agency's login: sees only its own agency's goods requests.
    PARTNER = "partner"

    @property
    def label(self) -> str:
        return self.value.capitalize()


# The organisation's own people; a partner agency's login is none of them.
ORGANIZATION_ROLES = (Role.ADMIN, Role.TREASURER, Role.STAFF)


def _sql_in(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def str_enum(enum_class: type[enum.StrEnum], length: int) -> SAEnum:
    """A status column typed as its enum: stored as the member's value in a
    VARCHAR of `length` (the named CHECK constraint beside it keeps the list),
    read back as the member. Plain strings still bind, so `?status=` filters work."""
    return SAEnum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


def new_session_token() -> str:
    return secrets.token_hex(16)


class User(UserMixin, db.Model):
    """A person who signs in. What they may do is a ``Membership``: a role in one
    organisation (admin, treasurer, staff, or a partner agency's login). Someone may
    belong to several organisations; a coalition admin may belong to none."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    # The account may sign in at all (off once no membership of it is active).
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Creates organisations and sees coalition pages; sees no member's records unless
    # also a member.
    coalition_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Rotated on a password change or deactivation. Since 0008 the cookie names a
    # UserSession row instead; sessions are revoked there.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two-step sign-in: the base32 TOTP secret once enrolment is confirmed, and
    # the last time step a code was accepted for (a code works once).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_counter: Mapped[int | None] = mapped_column(Integer)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", order_by="Membership.organization_id"
    )

    # The id of the browser session this user was loaded for ("<user id>:<token>");
    # set by services.user_sessions, never stored.
    session_key = None  # str, or None until a session is started or loaded

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def has_two_factor(self) -> bool:
        return self.totp_secret is not None

    def get_id(self) -> str:  # Flask-Login: what the session cookie keeps
        if self.session_key is None:
            raise RuntimeError("start a session with services.user_sessions first")
        return self.session_key

    def remember_membership(
        self,
        organization_id: int,
        membership: Membership | None,
        *,
        count: int,
        switch_rows: str | None,
    ) -> None:
        """Note the membership of one organisation, how many organisations the user
        belongs to and the switcher's rows (``services.organizations.switch_choices``),
        read with the session (no more query)."""
        self.__dict__["_membership_here"] = (organization_id, membership)
        self.__dict__["_membership_count"] = count
        self.__dict__["_switch_rows"] = switch_rows or "[]"

    @property
    def remembered_switch_rows(self) -> str | None:
        """The switcher's rows read with the session (``sql_json.json_rows``), if they were."""
        return self.__dict__.get("_switch_rows")

    @property
    def several_memberships(self) -> bool:
        """Whether the user belongs to more than one organisation."""
        count = self.__dict__.get("_membership_count")
        return (count if count is not None else len(self.memberships)) > 1

    @property
    def membership(self) -> Membership | None:
        """The membership of the current organisation (active or not), or None."""
        organization_id = current_organization_id()
        held = self.__dict__.get("_membership_here")
        if held is not None and held[0] == organization_id:
            found = held[1]
        else:
            found = next(
                (m for m in self.memberships if m.organization_id == organization_id), None
            )
        return found

    @hybrid_property
    def role(self) -> str | None:
        """The role in the current organisation (None when not an active member). In a
        query, the same, as a subquery on ``memberships``."""
        membership = self.membership
        return membership.role if membership is not None and membership.active else None

    @role.inplace.expression
    @classmethod
    def _role_expression(cls) -> Any:
        return _membership_column(Membership.role, active_only=True)

    @hybrid_property
    def recipient_id(self) -> int | None:
        """A partner login's agency in the current organisation, by id."""
        membership = self.membership
        return membership.recipient_id if membership is not None else None

    @recipient_id.inplace.expression
    @classmethod
    def _recipient_id_expression(cls) -> Any:
        return _membership_column(Membership.recipient_id, active_only=False)

    @property
    def recipient(self) -> Recipient | None:
        """A partner login's agency in the current organisation."""
        membership = self.membership
        return membership.recipient if membership is not None else None

    @property
    def role_enum(self) -> Role | None:
        role = self.role
        return Role(role) if role is not None else None

    def has_role(self, *roles: Role | str) -> bool:
        return self.role in {str(r) for r in roles}

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


def _membership_column(column: Any, *, active_only: bool) -> Any:
    """``column`` of the user's membership of the current organisation, as a subquery."""
    query = select(column).where(
        Membership.user_id == User.id, Membership.organization_id == current_organization_id()
    )
    if active_only:
        query = query.where(Membership.active.is_(True))
    return query.correlate(User).scalar_subquery()


class Membership(db.Model):
    """A user's role in one organisation. A partner login's membership names its agency.

    Not ``OrgScoped``: it is how a person reaches organisations, read across them (the
    switcher), and queried with the organisation written out."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "organization_id", name="uq_membership_user_org"),
        CheckConstraint(f"role IN ({_sql_in([r.value for r in Role])})", name="role_known"),
        # A partner login belongs to exactly one partner agency; nobody else does.
        CheckConstraint(
            "(role = 'partner') = (recipient_id IS NOT NULL)", name="partner_has_agency"
        ),
        Index("ix_memberships_org_role", "organization_id", "role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # No foreign key: the first organisation's row may not exist before its profile is
    # saved, and its people are members already.
    organization_id: Mapped[int] = mapped_column(Integer)
    role: Mapped[Role] = mapped_column(str_enum(Role, 20))
    # A partner login's agency (a recipient of kind partner of this organisation).
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("recipients.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    recipient: Mapped[Recipient | None] = relationship()

    def __repr__(self) -> str:
        return f"<Membership user {self.user_id} org {self.organization_id} {self.role}>"


class UserSession(db.Model):
    """One signed-in browser. The cookie holds the token; only its SHA-256 is stored.

    Signing out sets ``revoked_at``; a revoked or idle session is refused.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str] = mapped_column(String(40), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """A single-use code that stands in for a one-time code; stored hashed."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Organization(db.Model):
    """An organisation on this deployment and its profile, used on receipts and pages.

    The first (``tenancy.HOME_ORGANIZATION_ID``) keeps the root paths; each has a slug
    for its own addresses. Rows of other tables belong to one through ``OrgScoped``.
    """

    __tablename__ = "organization"
    __table_args__ = (
        CheckConstraint("slug = lower(slug) AND length(slug) >= 2", name="slug_lowercase"),
        CheckConstraint("host = lower(host)", name="host_lowercase"),
        CheckConstraint("fiscal_year_start_month BETWEEN 1 AND 12", name="fiscal_month_range"),
        CheckConstraint("length(default_currency) = 3", name="currency_code_length"),
        CheckConstraint(
            "volunteer_hour_value_cents IS NULL OR volunteer_hour_value_cents >= 0",
            name="hour_value_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # URL-safe and unique: its public pages live under /o/<slug>/.
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    tax_id: Mapped[str] = mapped_column(String(20), default="")
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    signatory_name: Mapped[str] = mapped_column(String(120), default="")
    signatory_title: Mapped[str] = mapped_column(String(120), default="")
    receipt_footer: Mapped[str] = mapped_column(Text, default="")
    # The short story the public home page tells (plain text; a blank line starts a paragraph).
    public_story: Mapped[str] = mapped_column(Text, default="", server_default="")
    default_currency: Mapped[str] = mapped_column(String(3), default="USD")
    fiscal_year_start_month: Mapped[int] = mapped_column(Integer, default=1)
    # Admins and treasurers must use two-step sign-in (on for a new installation).
    require_two_factor: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # A regular expression a distribution's case code must match; blank: the default.
    case_code_pattern: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Archived: its pages and sign-ins are closed; its records are kept.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A host name of its own (donate.example.org) that serves its pages at the root.
    host: Mapped[str | None] = mapped_column(String(253), unique=True)
    # Its gift counts and totals appear in the coalition report (goods always do).
    shares_figures: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The sites (https origins, one a line) whose pages may frame /give/<slug>/embed;
    # blank: none (services/embedding.py checks them).
    embed_origins: Mapped[str] = mapped_column(Text, default="", server_default="")
    # What an hour of volunteers' time is worth, for the grant report only (never on a
    # letter); empty until an admin sets it, and the report then says "not set".
    volunteer_hour_value_cents: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def address_lines(self) -> list[str]:
        """Return the postal address as printable lines, blanks left out."""
        city_line = " ".join(p for p in (self.city, self.region, self.postal_code) if p)
        lines = [self.address_line1, self.address_line2, city_line, self.country]
        return [line for line in lines if line]


class OrganizationSecret(db.Model):
    """One secret of one organisation (a Stripe key, its webhook secret), encrypted.

    ``ciphertext`` is a Fernet token made with the DATA_KEYS (``services/secret_box.py``);
    nothing here ever holds the plain value. No foreign key to ``organization`` yet.
    """

    __tablename__ = "organization_secrets"

    organization_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    # When the value was last saved (re-encrypting it with a newer key leaves it).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Donor(OrgScoped, db.Model):
    """Someone who gives money or goods: a person or an organisation.

    A donor merged into another is kept (``merged_into_id`` set) so that old
    links and audit entries still lead somewhere; lists leave them out.
    """

    __tablename__ = "donors"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint(
            "merged_into_id IS NULL OR merged_into_id <> id", name="not_merged_into_self"
        ),
        # The donor list's order, within one organisation.
        Index("ix_donors_org_name", "organization_id", "name", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(100), default="")
    is_organization: Mapped[bool] = mapped_column(Boolean, default=False)
    prefers_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("donors.id"), index=True)
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    merged_into: Mapped[Donor | None] = relationship(remote_side=[id])

    @property
    def address_lines(self) -> list[str]:
        """Return the postal address as printable lines, blanks left out."""
        city_line = " ".join(p for p in (self.city, self.region, self.postal_code) if p)
        lines = [self.address_line1, self.address_line2, city_line, self.country]
        return [line for line in lines if line]

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None

    def __repr__(self) -> str:
        return f"<Donor {self.id} {self.name!r}>"


class AuditEvent(db.Model):
    """One change a user made: who, when, what, and a short before/after.

    Append-only: the ORM refuses to update or delete a row, and on PostgreSQL a
    trigger does too. Hash-chained, so a change made around both shows up in
    ``flask audit verify`` (services/audit.py).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("ix_audit_events_occurred_at", "occurred_at", "id"),  # the log's order
        Index("ix_audit_events_organization", "organization_id", "occurred_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The actor's email when it happened (None for the command line or system).
    actor_email: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(64))
    # The organisation whose log shows it (set by ``record_audit``). Not part of the hash:
    # the chain is one for the whole deployment.
    organization_id: Mapped[int] = mapped_column(
        Integer, default=current_organization_id, server_default="1"
    )
    summary: Mapped[str] = mapped_column(Text, default="")
    # The chain (services/audit.py): sha256 hex of the previous event's content
    # hash (64 zeros for the first event) and of this event's own content.
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()


# On PostgreSQL the database itself refuses to change or remove an audit event.
# (DDL() formats its text: the %% is one % for PostgreSQL's RAISE.)
AUDIT_APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: %% refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""
AUDIT_APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
"""
event.listen(
    AuditEvent.__table__,
    "after_create",
    DDL(AUDIT_APPEND_ONLY_FUNCTION).execute_if(dialect="postgresql"),
)
event.listen(
    AuditEvent.__table__,
    "after_create",
    DDL(AUDIT_APPEND_ONLY_TRIGGER).execute_if(dialect="postgresql"),
)


class AuditVerification(db.Model):
    """One run of the audit chain check (``flask audit verify`` or the log page)."""

    __tablename__ = "audit_verifications"
    __table_args__ = (
        CheckConstraint("event_count >= 0", name="event_count_not_negative"),
        CheckConstraint("ok OR first_bad_id IS NOT NULL", name="failure_names_an_event"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    event_count: Mapped[int] = mapped_column(Integer)
    # The first event found wrong, and what is wrong with it.
    first_bad_id: Mapped[int | None] = mapped_column(Integer)
    problem: Mapped[str] = mapped_column(Text, default="")
    # The last event of the chain when it verified, so a later run notices
    # events removed from the end.
    head_id: Mapped[int | None] = mapped_column(Integer)
    head_hash: Mapped[str | None] = mapped_column(String(64))
    # Who asked: an admin's email, or None for the command line.
    actor_email: Mapped[str | None] = mapped_column(String(254))


class MailStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"
    FAILED = "failed"  # gave up; an admin may queue it again


class OutboxMessage(OrgScoped, db.Model):
    """An email queued in the same transaction as the change that caused it."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({_sql_in([s.value for s in MailStatus])})", name="status_known"
        ),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_mail_outbox_due", "status", "next_attempt_at"),
        Index("ix_mail_outbox_created_at", "created_at", "id"),  # the list's order
        Index("ix_mail_outbox_status_created", "status", "created_at", "id"),
        # One organisation's list, and its failed count.
        Index("ix_mail_outbox_org_created", "organization_id", "created_at", "id"),
        Index("ix_mail_outbox_org_status", "organization_id", "status", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # Bodies with secrets (reset links) are not shown on the Outgoing mail page.
    is_sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[MailStatus] = mapped_column(str_enum(MailStatus, 12), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # Where it went: "smtp" or the path of the .eml file written.
    delivered_via: Mapped[str] = mapped_column(String(500), default="")

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="OutboxAttachment.id"
    )


class OutboxAttachment(db.Model):
    """A file sent with a message: its bytes, or the receipt whose PDF is rendered when the
    message is sent (so the transaction that issued the receipt does not wait for ReportLab)."""

    __tablename__ = "mail_outbox_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("mail_outbox.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)  # empty when rendered from receipt_id
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("receipts.id"))

    message: Mapped[OutboxMessage] = relationship(back_populates="attachments")


# --- cash gifts -------------------------------------------------------------


class Fund(OrgScoped, db.Model):
    """Where a gift goes: General, Shelter operations, Survivor services..."""

    __tablename__ = "funds"
    __table_args__ = (UniqueConstraint("organization_id", "name", name="uq_funds_org_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    is_restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Fund {self.id} {self.name!r}>"


class GivingSettings(db.Model):
    """How an organisation's public donation page behaves: one row each, its id the
    organisation's."""

    __tablename__ = "giving_settings"
    __table_args__ = (
        CheckConstraint("min_amount_cents > 0", name="min_positive"),
        CheckConstraint("max_amount_cents >= min_amount_cents", name="max_above_min"),
        CheckConstraint("fee_percent_bp >= 0 AND fee_percent_bp < 10000", name="fee_percent_range"),
        CheckConstraint("fee_fixed_cents >= 0", name="fee_fixed_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=current_organization_id)
    # Preset amounts in cents, comma-separated, e.g. "2500,5000,10000,25000".
    preset_amounts: Mapped[str] = mapped_column(String(200), default="2500,5000,10000,25000")
    min_amount_cents: Mapped[int] = mapped_column(Integer, default=500)
    max_amount_cents: Mapped[int] = mapped_column(Integer, default=2_500_000)
    # Processing fee the "cover the fee" option grosses up for: 290 bp = 2.9 %.
    fee_percent_bp: Mapped[int] = mapped_column(Integer, default=290)
    fee_fixed_cents: Mapped[int] = mapped_column(Integer, default=30)
    impact_text: Mapped[str] = mapped_column(Text, default="")
    default_fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def preset_list(self) -> list[int]:
        return [int(p) for p in self.preset_amounts.split(",") if p.strip().isdigit()]


class GiftSource(enum.StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class GiftMethod(enum.StrEnum):
    CARD = "card"  # online through Stripe (any payment method Stripe took)
    CASH = "cash"
    CHEQUE = "cheque"
    BANK_TRANSFER = "bank_transfer"
    SECURITIES = "securities"

    @property
    def label(self) -> str:
        return {
            "card": "Online (Stripe)",
            "cash": "Cash",
            "cheque": "Cheque",
            "bank_transfer": "Bank transfer",
            "securities": "Donated securities",
        }[self.value]


class GiftStatus(enum.StrEnum):
    PENDING = "pending"  # checkout started, nothing paid yet
    PROCESSING = "processing"  # paid by a slow method (bank debit) that has not cleared
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"  # checkout abandoned


class Frequency(enum.StrEnum):
    ONE_TIME = "one_time"
    MONTHLY = "monthly"


class TributeType(enum.StrEnum):
    HONOR = "honor"
    MEMORY = "memory"


class PlanStatus(enum.StrEnum):
    INCOMPLETE = "incomplete"  # checkout started, first payment not made
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELLED = "cancelled"


class RecurringPlan(OrgScoped, db.Model):
    """A monthly gift: a Stripe subscription; each paid instalment is its own Gift."""

    __tablename__ = "recurring_plans"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint(
            f"status IN ({_sql_in([s.value for s in PlanStatus])})", name="status_known"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"))
    # The campaign the plan was started from: each instalment counts towards it.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    # The supporter's page the plan was started from: each instalment counts towards it
    # too while the page is approved (services/supporter_pages/gifts.py).
    supporter_page_id: Mapped[int | None] = mapped_column(ForeignKey("supporter_pages.id"))
    # The donor let the page's supporter see the amount (their first name shows unless
    # the gift is anonymous).
    shares_amount: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The appeal code the plan was started with (a mailing's ``?appeal=``): instalments keep it.
    appeal_code: Mapped[str] = mapped_column(String(20), default="", server_default="")
    amount_cents: Mapped[int] = mapped_column(Integer)  # charged each month, fee cover included
    covered_fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PlanStatus] = mapped_column(
        str_enum(PlanStatus, 20), default=PlanStatus.INCOMPLETE
    )
    is_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_payment_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failed_invoice_id: Mapped[str | None] = mapped_column(String(255))
    # The failure episode (its failed invoice) the donor was last reminded of, and when:
    # one reminder per episode (services/plan_reminders.py).
    reminded_invoice_id: Mapped[str | None] = mapped_column(String(255))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    donor: Mapped[Donor] = relationship()
    fund: Mapped[Fund] = relationship()


class Gift(OrgScoped, db.Model):
    """A gift of money, online or offline, with its fee, refunds and net.

    Online gifts change only as Stripe's objects say (through their events);
    offline gifts never change: a mistake is corrected by a reversing entry
    (``is_reversal``, negative amount) plus a new gift, both pointing at the
    original through ``corrects_gift_id``.
    """

    __tablename__ = "gifts"
    __table_args__ = (
        CheckConstraint("amount_cents > 0 OR is_reversal", name="amount_positive"),
        CheckConstraint("fee_cents >= 0 OR is_reversal", name="fee_not_negative"),
        CheckConstraint("refunded_cents >= 0", name="refunded_not_negative"),
        CheckConstraint("covered_fee_cents >= 0", name="covered_fee_not_negative"),
        CheckConstraint("benefit_cents >= 0", name="benefit_not_negative"),
        CheckConstraint(
            f"status IN ({_sql_in([s.value for s in GiftStatus])})", name="status_known"
        ),
        CheckConstraint(
            f"method IN ({_sql_in([m.value for m in GiftMethod])})", name="method_known"
        ),
        CheckConstraint(
            f"source IN ({_sql_in([m.value for m in GiftSource])})", name="source_known"
        ),
        CheckConstraint(
            f"frequency IN ({_sql_in([f.value for f in Frequency])})", name="frequency_known"
        ),
        # The gifts list's order and the reports' periods, within one organisation.
        Index("ix_gifts_org_received", "organization_id", "received_at", "id"),
        # The gifts CSV reads one organisation's gifts in id order: streamed, never sorted.
        Index("ix_gifts_org_id", "organization_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    # The campaign the gift was given to (its page, or staff's choice for an offline gift).
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    # The supporter's page the gift was given through (always under ``campaign_id``);
    # cleared, audited, when the page was not approved as the gift was paid.
    supporter_page_id: Mapped[int | None] = mapped_column(
        ForeignKey("supporter_pages.id"), index=True
    )
    # The donor let the page's supporter see the amount.
    shares_amount: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The mail or print appeal the gift answered (YE2026): upper case, letters, digits and
    # hyphens (services/appeals.py); blank when none was given.
    appeal_code: Mapped[str] = mapped_column(String(20), default="", server_default="")
    source: Mapped[GiftSource] = mapped_column(str_enum(GiftSource, 10))
    method: Mapped[GiftMethod] = mapped_column(str_enum(GiftMethod, 20))
    frequency: Mapped[Frequency] = mapped_column(
        str_enum(Frequency, 10), default=Frequency.ONE_TIME
    )
    status: Mapped[GiftStatus] = mapped_column(str_enum(GiftStatus, 12), default=GiftStatus.PENDING)
    currency: Mapped[str] = mapped_column(String(3))
    amount_cents: Mapped[int] = mapped_column(Integer)  # gross: what the donor paid
    covered_fee_cents: Mapped[int] = mapped_column(Integer, default=0)  # part added to cover fees
    fee_cents: Mapped[int] = mapped_column(Integer, default=0)  # Stripe's processing fee
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    # Held back by a dispute (net of any reinstatement) and the dispute fees.
    dispute_cents: Mapped[int] = mapped_column(Integer, default=0)
    dispute_fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    dispute_status: Mapped[str] = mapped_column(String(40), default="")
    is_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    tribute_type: Mapped[str] = mapped_column(String(10), default="")
    tribute_name: Mapped[str] = mapped_column(String(200), default="")
    tribute_notify_email: Mapped[str] = mapped_column(String(254), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cheque_number: Mapped[str] = mapped_column(String(40), default="")
    reference: Mapped[str] = mapped_column(String(200), default="")
    memo: Mapped[str] = mapped_column(Text, default="")
    # Goods or services the donor received in return (a gala dinner, a T-shirt):
    # described on the receipt with their good-faith value.
    benefit_description: Mapped[str] = mapped_column(String(300), default="")
    benefit_cents: Mapped[int] = mapped_column(Integer, default=0)
    failure_message: Mapped[str] = mapped_column(String(500), default="")
    # When the donor was sent the thank-you note (once, when the gift is paid).
    thanked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("recurring_plans.id"), index=True)
    corrects_gift_id: Mapped[int | None] = mapped_column(ForeignKey("gifts.id"), index=True)
    is_reversal: Mapped[bool] = mapped_column(Boolean, default=False)
    # One per checkout attempt: a double-click finds the same gift.
    checkout_attempt_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    stripe_dispute_id: Mapped[str | None] = mapped_column(String(255))

    donor: Mapped[Donor] = relationship()
    fund: Mapped[Fund] = relationship()
    plan: Mapped[RecurringPlan | None] = relationship()
    corrects: Mapped[Gift | None] = relationship(remote_side=[id])
    created_by: Mapped[User | None] = relationship()

    @hybrid_property
    def total_fee_cents(self) -> int:
        """Processing fee plus dispute fees."""
        return self.fee_cents + self.dispute_fee_cents

    @hybrid_property
    def returned_cents(self) -> int:
        """Refunded, or held back by a dispute."""
        return self.refunded_cents + self.dispute_cents

    @hybrid_property
    def net_cents(self) -> int:
        """What the organisation keeps: gross less fees, refunds and disputes."""
        return (
            self.amount_cents
            - self.fee_cents
            - self.dispute_fee_cents
            - (self.refunded_cents + self.dispute_cents)
        )

    @property
    def is_fully_refunded(self) -> bool:
        return self.amount_cents > 0 and self.refunded_cents >= self.amount_cents

    @property
    def display_status(self) -> str:
        """The status a treasurer reads: paid, refunded, disputed..."""
        if self.is_reversal:
            return "reversal"
        if self.status != GiftStatus.PAID:
            return GiftStatus(self.status).value
        if self.dispute_status and self.dispute_status not in ("won", "lost"):
            return "disputed"
        if self.dispute_status == "lost":
            return "dispute lost"
        if self.is_fully_refunded:
            return "refunded"
        if self.refunded_cents:
            return "partially refunded"
        return "paid"

    def __repr__(self) -> str:
        return f"<Gift {self.id} {self.amount_cents} {self.currency} {self.status}>"


class AdjustmentKind(enum.StrEnum):
    REFUND = "refund"
    DISPUTE = "dispute"  # held back by a dispute (negative when reinstated)
    DISPUTE_FEE = "dispute_fee"


class GiftAdjustment(OrgScoped, db.Model):
    """A dated change of a gift's refunded or disputed amounts, as Stripe reported it.

    The gift row holds the current totals; these rows say when each change
    happened, so the journal posts a refund in the month it was made, not in
    the month of the gift. Append-only.
    """

    __tablename__ = "gift_adjustments"
    __table_args__ = (
        CheckConstraint("delta_cents <> 0", name="delta_not_zero"),
        CheckConstraint(
            f"kind IN ({_sql_in([k.value for k in AdjustmentKind])})", name="kind_known"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gift_id: Mapped[int] = mapped_column(ForeignKey("gifts.id"), index=True)
    kind: Mapped[AdjustmentKind] = mapped_column(str_enum(AdjustmentKind, 12))
    delta_cents: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    gift: Mapped[Gift] = relationship()


# --- summaries: totals kept beside their rows (services/summaries) ----------------
# Each is keyed by a grain ("d" a day, "m" a month, "y" a calendar year) and the
# first day of that period, so any run of days is read as a few years, months and
# days. They change in the same transaction as the rows they sum;
# ``flask reports verify`` and ``flask inventory verify`` recompute them.
SUMMARY_GRAINS = ("d", "m", "y")


class GiftPeriodTotal(db.Model):
    """The "received" gifts (paid, and correcting entries) of one period, fund, method
    and currency: the sums the reports and the dashboard show."""

    __tablename__ = "gift_period_totals"
    __table_args__ = (
        CheckConstraint("grain IN ('d', 'm', 'y')", name="grain_known"),
        # One organisation's periods: its funds' rows, not every fund's of the period.
        Index("ix_gift_period_totals_fund", "fund_id", "grain", "starts"),
    )

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    starts: Mapped[date] = mapped_column(Date, primary_key=True)
    fund_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    method: Mapped[str] = mapped_column(String(20), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    gifts: Mapped[int] = mapped_column(BigInteger, default=0)
    gross_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    returned_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    net_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class DonorGiftPeriod(db.Model):
    """How many gifts a donor gave in one period (paid, not a correction, above zero):
    donor retention counted in SQL. ``donor_id`` is no foreign key on purpose: merging
    donors adds the duplicate's rows to the survivor's (``summaries.move_donor``)."""

    __tablename__ = "donor_gift_periods"
    __table_args__ = (
        CheckConstraint("grain IN ('d', 'm', 'y')", name="grain_known"),
        Index("ix_donor_gift_periods_donor", "donor_id", "grain", "starts"),
    )

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    starts: Mapped[date] = mapped_column(Date, primary_key=True)
    donor_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gifts: Mapped[int] = mapped_column(Integer, default=0)


class DonorGiftGap(db.Model):
    """A calendar year a donor gave in (paid, not a correction, above zero), with the
    gifts that year and the latest earlier year the donor gave in (None: the first):
    retention by year without reading each donor's gifts. Kept from the yearly
    ``donor_gift_periods`` rows by ``summaries.retention``."""

    __tablename__ = "donor_gift_gaps"
    __table_args__ = (Index("ix_donor_gift_gaps_year", "year", "previous_year"),)

    donor_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    gifts: Mapped[int] = mapped_column(Integer, default=0)
    previous_year: Mapped[int | None] = mapped_column(Integer)


class DonorRetentionYear(db.Model):
    """Donors who gave in a calendar year, how many gave for the first time, and how
    many had given the year before too: one row read per report year."""

    __tablename__ = "donor_retention_years"

    # Counted per organisation: its donors only.
    organization_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    donors: Mapped[int] = mapped_column(BigInteger, default=0)
    first_time: Mapped[int] = mapped_column(BigInteger, default=0)
    retained: Mapped[int] = mapped_column(BigInteger, default=0)


class DonorDayCount(db.Model):
    """Per day, month or year: the (donor, day) pairs with a gift (paid, not a
    correction, above zero), and how many of those were a donor's first and last
    giving day. With ``donor_gap_counts``, donors in any period are counted from
    counters (``summaries.donor_days``)."""

    __tablename__ = "donor_day_counts"
    __table_args__ = (CheckConstraint("grain IN ('d', 'm', 'y')", name="grain_known"),)

    # Counted per organisation: its donors only.
    organization_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    starts: Mapped[date] = mapped_column(Date, primary_key=True)
    giving_days: Mapped[int] = mapped_column(BigInteger, default=0)
    first_days: Mapped[int] = mapped_column(BigInteger, default=0)
    last_days: Mapped[int] = mapped_column(BigInteger, default=0)


class DonorGapCount(db.Model):
    """How many times a donor's giving day fell in one period and their previous giving
    day in another: each pair counted at every grain of both ends."""

    __tablename__ = "donor_gap_counts"
    __table_args__ = (
        CheckConstraint("day_grain IN ('d', 'm', 'y')", name="day_grain_known"),
        CheckConstraint("prev_grain IN ('d', 'm', 'y')", name="prev_grain_known"),
    )

    # Counted per organisation: its donors only.
    organization_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day_grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    prev_grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    day_starts: Mapped[date] = mapped_column(Date, primary_key=True)
    prev_starts: Mapped[date] = mapped_column(Date, primary_key=True)
    gaps: Mapped[int] = mapped_column(BigInteger, default=0)


class StripeEventStatus(enum.StrEnum):
    RECEIVED = "received"  # stored and acknowledged; the job queue processes it next
    PROCESSED = "processed"
    IGNORED = "ignored"  # a type we do not act on: stored and acknowledged
    PARKED = "parked"  # refers to something we do not know yet; retried later
    FAILED = "failed"  # processing raised; a treasurer may process it again


class StripeEvent(OrgScoped, db.Model):
    """Every webhook event Stripe sent, by its id, with its raw payload."""

    __tablename__ = "stripe_events"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({_sql_in([s.value for s in StripeEventStatus])})", name="status_known"
        ),
        Index("ix_stripe_events_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    api_version: Mapped[str] = mapped_column(String(40), default="")
    livemode: Mapped[bool] = mapped_column(Boolean, default=False)
    stripe_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[StripeEventStatus] = mapped_column(str_enum(StripeEventStatus, 12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # The Stripe object the event is about (charge, invoice, subscription...).
    object_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    gift_id: Mapped[int | None] = mapped_column(ForeignKey("gifts.id"), index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("recurring_plans.id"), index=True)

    gift: Mapped[Gift | None] = relationship()
    plan: Mapped[RecurringPlan | None] = relationship()


class StripeTestObject(db.Model):
    """Test mode only: the Stripe-shaped objects of the local test payment page."""

    __tablename__ = "stripe_test_objects"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    object_type: Mapped[str] = mapped_column(String(60))
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AppLock(db.Model):
    """Named rows written to serialise writers on SQLite (see services/locking.py)."""

    __tablename__ = "app_locks"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    counter: Mapped[int] = mapped_column(Integer, default=0)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
@event.listens_for(AuditVerification, "before_update")
@event.listens_for(AuditVerification, "before_delete")
def _audit_is_append_only(mapper, connection, target) -> None:
    raise RuntimeError("audit events are append-only")


# --- donated goods ----------------------------------------------------------
#
# Stock moves only through documents (intake, distribution, transfer, ...),
# each holding appended ledger entries. Nothing here is edited in place: a
# mistake is undone by a reversing document. ``stock_levels`` keeps the on-hand
# quantity per item and site, maintained in the same transaction as each entry
# (``flask inventory verify`` recomputes it from the ledger).


class SiteKind(enum.StrEnum):
    SHELTER = "shelter"
    WAREHOUSE = "warehouse"
    DROPOFF = "dropoff"  # a public drop-off point donors may bring goods to

    @property
    def label(self) -> str:
        return {"shelter": "Shelter", "warehouse": "Warehouse", "dropoff": "Drop-off point"}[
            self.value
        ]


class Site(OrgScoped, db.Model):
    """A place that holds goods. A confidential site's address is never shown to donors."""

    __tablename__ = "sites"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_sql_in([k.value for k in SiteKind])})", name="kind_known"),
        # A public drop-off point is public by definition.
        CheckConstraint("NOT (kind = 'dropoff' AND is_confidential)", name="dropoff_not_secret"),
        UniqueConstraint("organization_id", "name", name="uq_sites_org_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[SiteKind] = mapped_column(str_enum(SiteKind, 20))
    is_confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    # Drop-off points: when donors may come, shown on the pledge form.
    public_hours: Mapped[str] = mapped_column(String(300), default="")
    # Who hears when an item falls under par here.
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def kind_label(self) -> str:
        return SiteKind(self.kind).label

    @property
    def address_lines(self) -> list[str]:
        """The address for staff pages; never call this for a donor-facing page."""
        city_line = " ".join(p for p in (self.city, self.region, self.postal_code) if p)
        return [line for line in (self.address_line1, self.address_line2, city_line) if line]

    @property
    def public_address_lines(self) -> list[str]:
        """The address a donor may see: none for a confidential site."""
        return [] if self.is_confidential else self.address_lines

    def __repr__(self) -> str:
        return f"<Site {self.id} {self.name!r}>"


class ItemCategory(OrgScoped, db.Model):
    __tablename__ = "item_categories"
    __table_args__ = (
        UniqueConstraint("organization_id", "name", name="uq_item_categories_org_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Item(OrgScoped, db.Model):
    """A stock-keeping item: "Coat, adult, M", "Toothbrush", "Hygiene kit"."""

    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint("fair_value_cents IS NULL OR fair_value_cents >= 0", name="value_sign"),
        CheckConstraint("code = upper(code)", name="code_uppercase"),
        Index("ix_items_name", "name"),
        UniqueConstraint("organization_id", "code", name="uq_items_org_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("item_categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    size: Mapped[str] = mapped_column(String(20), default="")
    unit: Mapped[str] = mapped_column(String(30), default="each")
    # Short and printable as a QR label, e.g. "COAT-A-M"; scanned into forms.
    code: Mapped[str] = mapped_column(String(30))
    # For internal reports only; never printed on a donor's acknowledgement.
    fair_value_cents: Mapped[int | None] = mapped_column(Integer)
    fair_value_currency: Mapped[str] = mapped_column(String(3), default="USD")
    is_kit: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The public needs list: pinned items always show, hidden ones never do.
    needs_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[ItemCategory] = relationship()
    components: Mapped[list[KitComponent]] = relationship(
        foreign_keys="KitComponent.kit_id",
        cascade="all, delete-orphan",
        order_by="KitComponent.id",
    )

    @property
    def label(self) -> str:
        """The name with its size: "Coat, adult (M)"."""
        return f"{self.name} ({self.size})" if self.size else self.name

    def __repr__(self) -> str:
        return f"<Item {self.id} {self.code}>"


# The order lists of items are read in (the catalog, the stock page): a page of them
# is read from the index in order, without sorting every item first.
Index("ix_items_sort", Item.organization_id, func.lower(Item.name), Item.size, Item.id)


class KitComponent(db.Model):
    """One component of a kit: so many of an item per kit."""

    __tablename__ = "kit_components"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("kit_id <> component_id", name="not_own_component"),
        db.UniqueConstraint("kit_id", "component_id", name="uq_kit_components_pair"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kit_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    component: Mapped[Item] = relationship(foreign_keys=[component_id])


class StockLevel(db.Model):
    """What one site holds of one item, and what it should hold (par).

    ``on_hand`` is the sum of the ledger entries for the pair, kept in the same
    transaction as each entry; writers lock the row (FOR UPDATE) first.
    """

    __tablename__ = "stock_levels"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("par_level >= 0", name="par_not_negative"),
        # Covering: the stock page reads its balance rows from the index alone.
        Index("ix_stock_levels_item", "item_id", "on_hand", "par_level", "site_id"),
    )

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    par_level: Mapped[int] = mapped_column(Integer, default=0)
    # Set when the site's contact was told the item fell under par; cleared when
    # it is back at par, so one fall makes one email.
    low_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship()
    item: Mapped[Item] = relationship()


class DocumentKind(enum.StrEnum):
    INTAKE = "intake"
    DISTRIBUTION = "distribution"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"
    COUNT = "count"
    KIT_ASSEMBLY = "kit_assembly"
    KIT_DISASSEMBLY = "kit_disassembly"
    REVERSAL = "reversal"

    @property
    def label(self) -> str:
        return {
            "intake": "Intake",
            "distribution": "Distribution",
            "transfer": "Transfer",
            "adjustment": "Adjustment",
            "count": "Stock count",
            "kit_assembly": "Kit assembly",
            "kit_disassembly": "Kit disassembly",
            "reversal": "Reversal",
        }[self.value]


class IntakeSource(enum.StrEnum):
    DONOR = "donor"  # a known donor: also an in-kind gift
    DRIVE = "drive"  # a named collection drive
    ANONYMOUS = "anonymous"  # left at a drop-off point


class AdjustmentReason(enum.StrEnum):
    DAMAGED = "damaged"
    EXPIRED = "expired"
    LOST = "lost"
    FOUND = "found"
    OTHER = "other"


class Condition(enum.StrEnum):
    NEW = "new"
    GOOD_USED = "good_used"

    @property
    def label(self) -> str:
        return {"new": "New", "good_used": "Good used"}[self.value]


class RecipientKind(enum.StrEnum):
    PROGRAM = "program"  # the organisation's own: residential, drop-in, outreach ...
    PARTNER = "partner"  # another organisation: legal aid, a clinic, another shelter

    @property
    def label(self) -> str:
        return {"program": "Program", "partner": "Partner agency"}[self.value]


class Recipient(OrgScoped, db.Model):
    """A program or partner agency goods are given out to: never a person.

    Archived ones are not offered on new distributions but stay on old documents.
    """

    __tablename__ = "recipients"
    __table_args__ = (
        CheckConstraint(
            f"kind IN ({_sql_in([k.value for k in RecipientKind])})", name="kind_known"
        ),
        UniqueConstraint("organization_id", "kind", "name", name="uq_recipients_org_kind_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[RecipientKind] = mapped_column(str_enum(RecipientKind, 10))
    name: Mapped[str] = mapped_column(String(120))
    # A partner's organisational contact (an intake desk, a general line): never a client.
    contact: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def kind_label(self) -> str:
        return RecipientKind(self.kind).label

    def __repr__(self) -> str:
        return f"<Recipient {self.id} {self.kind} {self.name!r}>"


class StockDocument(OrgScoped, db.Model):
    """One act of moving goods, holding its ledger entries. Never edited."""

    __tablename__ = "stock_documents"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_sql_in([k.value for k in DocumentKind])})", name="kind_known"),
        CheckConstraint(
            f"source IN ('', {_sql_in([s.value for s in IntakeSource])})", name="source_known"
        ),
        CheckConstraint(
            f"reason IN ('', {_sql_in([r.value for r in AdjustmentReason])})",
            name="reason_known",
        ),
        CheckConstraint("to_site_id IS NULL OR to_site_id <> site_id", name="transfer_two_sites"),
        CheckConstraint(
            "(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal_points_back"
        ),
        Index("ix_stock_documents_effective", "effective_date"),
        Index("ix_stock_documents_kind", "kind", "id"),
        # One organisation's documents, newest first.
        Index("ix_stock_documents_org", "organization_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind, 20))
    effective_date: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The site goods leave or arrive at; for a transfer, the one they leave.
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    to_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    # Intake: where the goods came from.
    source: Mapped[str] = mapped_column(String(12), default="")
    donor_id: Mapped[int | None] = mapped_column(ForeignKey("donors.id"), index=True)
    drive_name: Mapped[str] = mapped_column(String(120), default="")
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"), index=True)
    # Intake: the campaign the goods were collected for (its goods progress counts them).
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    # Distribution: a program or partner, and at most a staff-chosen case code.
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("recipients.id"), index=True)
    case_code: Mapped[str] = mapped_column(String(20), default="")
    # Adjustment: why.
    reason: Mapped[str] = mapped_column(String(12), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # Kit assembly/disassembly: which kit and how many.
    kit_item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    kit_quantity: Mapped[int | None] = mapped_column(Integer)
    # A reversal points at the document it undoes; a document is undone once.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("stock_documents.id"), unique=True)

    created_by: Mapped[User | None] = relationship()
    site: Mapped[Site] = relationship(foreign_keys=[site_id])
    to_site: Mapped[Site | None] = relationship(foreign_keys=[to_site_id])
    donor: Mapped[Donor | None] = relationship()
    kit_item: Mapped[Item | None] = relationship()
    recipient_record: Mapped[Recipient | None] = relationship()
    reverses: Mapped[StockDocument | None] = relationship(
        remote_side=[id], foreign_keys=[reverses_id]
    )
    entries: Mapped[list[StockEntry]] = relationship(
        back_populates="document", order_by="StockEntry.id"
    )

    @property
    def kind_label(self) -> str:
        return DocumentKind(self.kind).label

    @property
    def number(self) -> str:
        """A short reference staff can say aloud: "D-000123"."""
        return self.number_of(self.id)

    @staticmethod
    def number_of(document_id: int) -> str:
        """The reference of the document with this id, without loading it."""
        return f"D-{document_id:06d}"

    @property
    def recipient(self) -> str:
        """The name of the program or partner agency a distribution went to."""
        return self.recipient_record.name if self.recipient_record is not None else ""


class StockEntry(OrgScoped, db.Model):
    """One ledger line: so many of an item in (+) or out (-) at a site."""

    __tablename__ = "stock_entries"
    __table_args__ = (
        # Zero only on a count line that matched what was expected.
        CheckConstraint("quantity <> 0 OR counted_quantity IS NOT NULL", name="quantity_not_zero"),
        CheckConstraint(
            f"condition IN ('', {_sql_in([c.value for c in Condition])})", name="condition_known"
        ),
        Index("ix_stock_entries_item_site", "item_id", "site_id", "effective_date"),
        Index("ix_stock_entries_site_date", "site_id", "effective_date"),
        Index("ix_stock_entries_item_date", "item_id", "effective_date", "id"),  # item history
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("stock_documents.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    # Copied from the document so "stock as of a date" reads one table.
    effective_date: Mapped[date] = mapped_column(Date)
    condition: Mapped[str] = mapped_column(String(12), default="")
    # Stock counts: what was counted (the entry holds the difference).
    counted_quantity: Mapped[int | None] = mapped_column(Integer)

    document: Mapped[StockDocument] = relationship(back_populates="entries")
    item: Mapped[Item] = relationship()
    site: Mapped[Site] = relationship()


class StockPeriodTotal(db.Model):
    """The net quantity of an item moved at a site in one period, by the kind of
    document (a reversal counts under the kind it undoes): stock on a past date,
    goods received and distributed, without summing the ledger."""

    __tablename__ = "stock_period_totals"
    __table_args__ = (
        CheckConstraint("grain IN ('d', 'm', 'y')", name="grain_known"),
        # Reads name their organisation's sites: the primary key (site, grain, starts)
        # serves them; an item's history reads by item.
        Index("ix_stock_period_totals_item", "item_id", "grain", "starts"),
    )

    site_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    starts: Mapped[date] = mapped_column(Date, primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)


class StockMonthClosing(db.Model):
    """What a site held of an item at the end of a month in which the pair moved: the
    balance on any day is the latest closing before its month plus that month's days."""

    __tablename__ = "stock_month_closings"

    site_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)


class StockCategoryTotal(db.Model):
    """``stock_period_totals`` summed over sites and the items of a category: the
    report's goods per category in a few rows."""

    __tablename__ = "stock_category_totals"
    __table_args__ = (
        CheckConstraint("grain IN ('d', 'm', 'y')", name="grain_known"),
        # One organisation's periods: its categories' rows.
        Index("ix_stock_category_totals_category", "category_id", "grain", "starts"),
    )

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    starts: Mapped[date] = mapped_column(Date, primary_key=True)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)


class InKindGift(OrgScoped, db.Model):
    """Goods from a known donor: the intake document is the list of what came."""

    __tablename__ = "in_kind_gifts"
    __table_args__ = (
        CheckConstraint(
            "donor_value_cents IS NULL OR donor_value_cents >= 0", name="donor_value_sign"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("stock_documents.id"), unique=True)
    received_on: Mapped[date] = mapped_column(Date, index=True)
    # The donor's own estimate, for internal reports only: the organisation
    # never states a value on the acknowledgement.
    donor_value_cents: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    donor: Mapped[Donor] = relationship()
    document: Mapped[StockDocument] = relationship()


class PledgeStatus(enum.StrEnum):
    OPEN = "open"  # waiting for (the rest of) the goods
    RECEIVED = "received"  # everything arrived, or staff closed it
    CANCELLED = "cancelled"
    # Not (all) delivered within PLEDGE_EXPIRY_DAYS of its day: the rest is no longer
    # expected; what did arrive stays recorded.
    EXPIRED = "expired"


class Pledge(OrgScoped, db.Model):
    """A donor's promise to bring goods to a drop-off point."""

    __tablename__ = "pledges"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({_sql_in([s.value for s in PledgeStatus])})", name="status_known"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    expected_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
    # The campaign page the pledge was made from; its intake counts towards the campaign.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    status: Mapped[PledgeStatus] = mapped_column(
        str_enum(PledgeStatus, 12), default=PledgeStatus.OPEN, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    donor: Mapped[Donor] = relationship()
    site: Mapped[Site] = relationship()
    lines: Mapped[list[PledgeLine]] = relationship(
        back_populates="pledge", cascade="all, delete-orphan", order_by="PledgeLine.id"
    )


class PledgeLine(db.Model):
    __tablename__ = "pledge_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    pledge: Mapped[Pledge] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()


class GoodsRequestStatus(enum.StrEnum):
    OPEN = "open"  # waiting for staff
    FULFILLED = "fulfilled"  # everything asked for was given
    PARTLY_FULFILLED = "partly_fulfilled"  # some of it was given
    DECLINED = "declined"  # staff said no, with a reason
    WITHDRAWN = "withdrawn"  # the partner took it back

    @property
    def label(self) -> str:
        return {
            "open": "Open",
            "fulfilled": "Fulfilled",
            "partly_fulfilled": "Partly fulfilled",
            "declined": "Declined",
            "withdrawn": "Withdrawn",
        }[self.value]


GIVEN_STATUSES = (GoodsRequestStatus.FULFILLED, GoodsRequestStatus.PARTLY_FULFILLED)


class GoodsRequest(OrgScoped, db.Model):
    """A partner agency's request for goods. Decided once: the decision is never rewritten."""

    __tablename__ = "goods_requests"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({_sql_in([s.value for s in GoodsRequestStatus])})", name="status_known"
        ),
        CheckConstraint(
            f"(status IN ({_sql_in([s.value for s in GIVEN_STATUSES])})) "
            "= (distribution_id IS NOT NULL)",
            name="given_has_distribution",
        ),
        CheckConstraint("(status = 'open') = (decided_at IS NULL)", name="decided_unless_open"),
        Index("ix_goods_requests_status", "status", "id"),
        Index("ix_goods_requests_recipient", "recipient_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id"))
    status: Mapped[GoodsRequestStatus] = mapped_column(
        str_enum(GoodsRequestStatus, 20), default=GoodsRequestStatus.OPEN
    )
    # Screened free text: what the goods are for, never a person.
    note: Mapped[str] = mapped_column(String(500), default="")
    needed_by: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decline_reason: Mapped[str] = mapped_column(String(500), default="")
    # The distribution that gave the goods, when (some were) given.
    distribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("stock_documents.id"), unique=True
    )

    recipient: Mapped[Recipient] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    distribution: Mapped[StockDocument | None] = relationship()
    lines: Mapped[list[GoodsRequestLine]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="GoodsRequestLine.id"
    )

    @property
    def number(self) -> str:
        """A short reference both sides can say aloud: "R-000012"."""
        return f"R-{self.id:06d}"

    @property
    def status_label(self) -> str:
        return GoodsRequestStatus(self.status).label

    @property
    def is_open(self) -> bool:
        return self.status == GoodsRequestStatus.OPEN


class GoodsRequestLine(db.Model):
    """One item of a request: how many were asked for and, once decided, how many given."""

    __tablename__ = "goods_request_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "quantity_given IS NULL OR (quantity_given >= 0 AND quantity_given <= quantity)",
            name="given_within_asked",
        ),
        UniqueConstraint("request_id", "item_id", name="uq_goods_request_lines_item"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("goods_requests.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    quantity_given: Mapped[int | None] = mapped_column(Integer)

    request: Mapped[GoodsRequest] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()


@event.listens_for(GoodsRequest, "before_update")
def _decisions_are_kept(mapper, connection, target: GoodsRequest) -> None:
    """A decided request is never changed again (the status stored before this update says)."""
    table = GoodsRequest.__table__
    before = connection.scalar(select(table.c.status).where(table.c.id == target.id))
    if before is not None and before != GoodsRequestStatus.OPEN.value:
        raise RuntimeError("a decided goods request is kept as it was decided")


@event.listens_for(GoodsRequest, "before_delete")
@event.listens_for(GoodsRequestLine, "before_delete")
def _requests_are_kept(mapper, connection, target) -> None:
    raise RuntimeError("goods requests are kept: withdraw or decline one instead")


@event.listens_for(GiftAdjustment, "before_update")
@event.listens_for(GiftAdjustment, "before_delete")
@event.listens_for(StockEntry, "before_update")
@event.listens_for(StockEntry, "before_delete")
@event.listens_for(StockDocument, "before_update")
@event.listens_for(StockDocument, "before_delete")
def _ledger_is_append_only(mapper, connection, target) -> None:
    raise RuntimeError("the stock ledger is append-only: record a reversing document instead")


# --- surplus exchange between members ---------------------------------------
# One member offers goods it has too many of; another asks for some; once the giver
# confirms, a distribution in the giver's ledger and an intake in the receiver's move
# them (services/surplus.py). These two tables span organisations on purpose, so they
# are not OrgScoped: each row names its organisations, and the service reads only the
# columns the other side may see (never a site or a quantity on hand).


class SurplusOfferStatus(enum.StrEnum):
    OPEN = "open"  # others may ask for what is left of it
    WITHDRAWN = "withdrawn"  # the giver took it back; its pending requests were cancelled
    CLOSED = "closed"  # all of it was given

    @property
    def label(self) -> str:
        return {"open": "Open", "withdrawn": "Withdrawn", "closed": "All given"}[self.value]


class SurplusClaimStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the giver
    CONFIRMED = "confirmed"  # given: both documents recorded
    DECLINED = "declined"  # the giver said no
    CANCELLED = "cancelled"  # the receiver took it back, or the offer was withdrawn

    @property
    def label(self) -> str:
        return {
            "pending": "Waiting for the giver",
            "confirmed": "Given",
            "declined": "Declined",
            "cancelled": "Cancelled",
        }[self.value]


class SurplusOffer(db.Model):
    """Goods one member offers to the others: what, how many, and (for the giver only)
    the item and the site they leave from."""

    __tablename__ = "surplus_offers"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            f"status IN ({_sql_in([s.value for s in SurplusOfferStatus])})", name="status_known"
        ),
        CheckConstraint(
            f"condition IN ({_sql_in([c.value for c in Condition])})", name="condition_known"
        ),
        CheckConstraint("(status = 'open') = (closed_at IS NULL)", name="closed_unless_open"),
        Index("ix_surplus_offers_status", "status", "id"),
        Index("ix_surplus_offers_giver", "giver_organization_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    giver_organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    # The giver's own item and site: never shown to another member.
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    # What the other members see, copied from the item when it was offered.
    item_label: Mapped[str] = mapped_column(String(150))
    item_code: Mapped[str] = mapped_column(String(30))
    unit: Mapped[str] = mapped_column(String(30))
    condition: Mapped[str] = mapped_column(String(12))
    quantity: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[SurplusOfferStatus] = mapped_column(
        str_enum(SurplusOfferStatus, 12), default=SurplusOfferStatus.OPEN
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    claims: Mapped[list[SurplusClaim]] = relationship(
        back_populates="offer", order_by="SurplusClaim.id"
    )

    @property
    def number(self) -> str:
        """A short reference both members can say aloud: "SO-000012"."""
        return f"SO-{self.id:06d}"

    @property
    def status_label(self) -> str:
        return SurplusOfferStatus(self.status).label

    @property
    def condition_label(self) -> str:
        return Condition(self.condition).label

    @property
    def is_open(self) -> bool:
        return self.status == SurplusOfferStatus.OPEN


class SurplusClaim(db.Model):
    """A member's request for some of another member's offer; once confirmed, it links
    the giver's distribution and the receiver's intake."""

    __tablename__ = "surplus_claims"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            f"status IN ({_sql_in([s.value for s in SurplusClaimStatus])})", name="status_known"
        ),
        CheckConstraint(
            "(status = 'pending') = (decided_at IS NULL)", name="decided_unless_pending"
        ),
        CheckConstraint(
            "(status = 'confirmed') = (distribution_id IS NOT NULL)", name="confirmed_has_documents"
        ),
        CheckConstraint("(distribution_id IS NULL) = (intake_id IS NULL)", name="documents_paired"),
        Index("ix_surplus_claims_offer", "offer_id", "status"),
        Index("ix_surplus_claims_receiver", "receiver_organization_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("surplus_offers.id"))
    receiver_organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    # The receiver's own site and item the goods go in as: never shown to the giver.
    receiver_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    receiver_item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[SurplusClaimStatus] = mapped_column(
        str_enum(SurplusClaimStatus, 12), default=SurplusClaimStatus.PENDING
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Why it was declined or cancelled, as both members see it.
    reason: Mapped[str] = mapped_column(String(500), default="")
    # The giver's distribution and the receiver's intake: one transfer, two ledgers.
    distribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("stock_documents.id"), unique=True
    )
    intake_id: Mapped[int | None] = mapped_column(ForeignKey("stock_documents.id"), unique=True)

    offer: Mapped[SurplusOffer] = relationship(back_populates="claims")

    @property
    def number(self) -> str:
        """A short reference both members can say aloud: "SR-000012"."""
        return f"SR-{self.id:06d}"

    @property
    def status_label(self) -> str:
        return SurplusClaimStatus(self.status).label

    @property
    def is_pending(self) -> bool:
        return self.status == SurplusClaimStatus.PENDING

    @property
    def distribution_number(self) -> str:
        """The giver's distribution ("D-000123"), once confirmed."""
        return StockDocument.number_of(self.distribution_id) if self.distribution_id else ""

    @property
    def intake_number(self) -> str:
        """The receiver's intake ("D-000124"), once confirmed."""
        return StockDocument.number_of(self.intake_id) if self.intake_id else ""


# --- receipts ---------------------------------------------------------------


class ReceiptKind(enum.StrEnum):
    CASH = "cash"  # one gift of money
    IN_KIND = "in_kind"  # an acknowledgement of goods: no value stated
    STATEMENT = "statement"  # a donor's year-end statement

    @property
    def label(self) -> str:
        return {
            "cash": "Gift receipt",
            "in_kind": "In-kind acknowledgement",
            "statement": "Year-end statement",
        }[self.value]


class ReceiptStatus(enum.StrEnum):
    VALID = "valid"
    VOID = "void"


class StatementBasis(enum.StrEnum):
    """The year a statement covers: January to December, or the organisation's fiscal year."""

    CALENDAR = "calendar"
    FISCAL = "fiscal"  # named by the calendar year it ends in
    RANGE = "range"  # one donor's statement over any dates (never a year-end run)

    @property
    def label(self) -> str:
        return {"calendar": "Calendar year", "fiscal": "Fiscal year", "range": "Date range"}[
            self.value
        ]


YEARLY_BASES = (StatementBasis.CALENDAR, StatementBasis.FISCAL)


class ReceiptSequence(OrgScoped, db.Model):
    """The last receipt number used in a fiscal year; locked while a number is taken.

    Receipts made in payments test mode count in their own rows (``is_test``), so
    a live series never holds a test number.
    """

    __tablename__ = "receipt_sequences"
    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number_not_negative"),)

    # Each organisation numbers its own receipts.
    organization_id: Mapped[int] = mapped_column(
        Integer, primary_key=True, default=current_organization_id
    )
    is_test: Mapped[bool] = mapped_column(Boolean, primary_key=True, default=False)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Receipt(OrgScoped, db.Model):
    """A receipt as issued: a legal document, never edited.

    ``content`` holds everything printed on it (a JSON snapshot taken when it was
    issued), so it renders the same forever. The only change a receipt ever
    sees is being voided, which keeps its number; a reissue is a new receipt
    pointing at the voided one through ``replaces_id``.
    """

    __tablename__ = "receipts"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_sql_in([k.value for k in ReceiptKind])})", name="kind_known"),
        CheckConstraint(
            f"status IN ({_sql_in([s.value for s in ReceiptStatus])})", name="status_known"
        ),
        CheckConstraint("sequence_number > 0", name="sequence_positive"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        CheckConstraint("(status = 'void') = (voided_at IS NOT NULL)", name="void_has_a_time"),
        CheckConstraint("(kind = 'cash') = (gift_id IS NOT NULL)", name="cash_receipt_has_a_gift"),
        CheckConstraint(
            "(kind = 'in_kind') = (in_kind_gift_id IS NOT NULL)", name="in_kind_has_a_gift"
        ),
        CheckConstraint(
            f"basis IN ({_sql_in([b.value for b in StatementBasis])})", name="basis_known"
        ),
        CheckConstraint(
            "(kind = 'statement') = "
            "(basis IS NOT NULL AND period_start IS NOT NULL AND period_end IS NOT NULL)",
            name="statement_has_a_period",
        ),
        UniqueConstraint(
            "organization_id",
            "is_test",
            "fiscal_year",
            "sequence_number",
            name="uq_receipts_org_year_sequence",
        ),
        UniqueConstraint("organization_id", "number", name="uq_receipts_org_number"),
        Index("ix_receipts_donor_issued", "donor_id", "issued_at"),
        Index("ix_receipts_statement_period", "period_start", "period_end", "donor_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20))  # "2026-000042", one series per organisation
    fiscal_year: Mapped[int] = mapped_column(Integer)
    sequence_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[ReceiptKind] = mapped_column(str_enum(ReceiptKind, 12))
    status: Mapped[ReceiptStatus] = mapped_column(
        str_enum(ReceiptStatus, 8), default=ReceiptStatus.VALID
    )
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"))
    gift_id: Mapped[int | None] = mapped_column(ForeignKey("gifts.id"), index=True)
    in_kind_gift_id: Mapped[int | None] = mapped_column(ForeignKey("in_kind_gifts.id"), index=True)
    # Made in payments test mode: a "TEST-" number of its own series, marked on every copy.
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    # Statements: the year it is named by, its basis (a StatementBasis) and the dates it
    # covers. A donor has at most one valid statement per period.
    tax_year: Mapped[int | None] = mapped_column(Integer)
    basis: Mapped[str | None] = mapped_column(String(10))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    # What the receipt acknowledges, in minor units (0 for goods: no value is stated).
    amount_cents: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    # Printed on the PDF and typed on /verify; unique and hard to guess.
    verification_code: Mapped[str] = mapped_column(String(20), unique=True)
    content: Mapped[str] = mapped_column(Text)  # JSON snapshot of what is printed
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Delivery: "email" once queued, "post" when the donor has no email address.
    delivery: Mapped[str] = mapped_column(String(10), default="")
    mail_message_id: Mapped[int | None] = mapped_column(ForeignKey("mail_outbox.id"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_reason: Mapped[str] = mapped_column(String(500), default="")
    # A reissue points at the voided receipt it replaces (once).
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("receipts.id"), unique=True)
    # Set by the year-end run that made a statement, so a rerun finds it.
    year_end_run_id: Mapped[int | None] = mapped_column(ForeignKey("year_end_runs.id"))

    donor: Mapped[Donor] = relationship()
    gift: Mapped[Gift | None] = relationship()
    in_kind_gift: Mapped[InKindGift | None] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    voided_by: Mapped[User | None] = relationship(foreign_keys=[voided_by_id])
    replaces: Mapped[Receipt | None] = relationship(remote_side=[id], foreign_keys=[replaces_id])

    @property
    def kind_label(self) -> str:
        return ReceiptKind(self.kind).label

    @property
    def is_void(self) -> bool:
        return self.status == ReceiptStatus.VOID


class ReceiptSettings(db.Model):
    """How an organisation's receipts are issued and printed, and the accounts of its journal
    export: one row each, its id the organisation's."""

    __tablename__ = "receipt_settings"
    __table_args__ = (CheckConstraint("page_size IN ('letter', 'a4')", name="page_size_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=current_organization_id)
    # Off: no receipt per gift; donors get the year-end statement only.
    per_gift_receipts: Mapped[bool] = mapped_column(Boolean, default=True)
    page_size: Mapped[str] = mapped_column(String(10), default="letter")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_content_type: Mapped[str] = mapped_column(String(40), default="")
    # Journal export (QuickBooks Online / Xero): the account names to post to.
    account_bank: Mapped[str] = mapped_column(String(100), default="Checking")
    account_clearing: Mapped[str] = mapped_column(String(100), default="Stripe clearing")
    account_fees: Mapped[str] = mapped_column(String(100), default="Payment processing fees")
    account_income: Mapped[str] = mapped_column(String(100), default="Contributions income")
    account_in_kind: Mapped[str] = mapped_column(String(100), default="In-kind contributions")
    account_refunds: Mapped[str] = mapped_column(String(100), default="Refunds and disputes")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class YearEndStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    STOPPED = "stopped"  # interrupted; running it again carries on
    FAILED = "failed"


class YearEndRun(OrgScoped, db.Model):
    """One run of the year-end statements for a tax year on a basis, with its progress."""

    __tablename__ = "year_end_runs"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({_sql_in([s.value for s in YearEndStatus])})", name="status_known"
        ),
        CheckConstraint(
            f"basis IN ({_sql_in([b.value for b in YEARLY_BASES])})", name="basis_known"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tax_year: Mapped[int] = mapped_column(Integer, index=True)
    basis: Mapped[StatementBasis] = mapped_column(
        str_enum(StatementBasis, 10), default=StatementBasis.FISCAL
    )
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[YearEndStatus] = mapped_column(
        str_enum(YearEndStatus, 10), default=YearEndStatus.RUNNING
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    donors_total: Mapped[int] = mapped_column(Integer, default=0)
    donors_done: Mapped[int] = mapped_column(Integer, default=0)
    statements_issued: Mapped[int] = mapped_column(Integer, default=0)
    emails_queued: Mapped[int] = mapped_column(Integer, default=0)
    for_post: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # The queue's batches work through donors by id: the last one reached (0: none yet).
    after_donor_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    started_by: Mapped[User | None] = relationship()


@event.listens_for(Receipt, "before_delete")
def _receipts_are_kept(mapper, connection, target) -> None:
    raise RuntimeError("receipts are legal documents and are never deleted")


@event.listens_for(Receipt, "before_update")
def _receipts_only_get_voided(mapper, connection, target) -> None:
    state = inspect(target)
    allowed = {
        "status",
        "voided_at",
        "voided_by_id",
        "void_reason",
        "delivery",
        "mail_message_id",
        "voided_by",
    }
    changed = {
        attr.key for attr in state.attrs if attr.history.has_changes() and attr.key not in allowed
    }
    if changed:
        raise RuntimeError(f"a receipt is never edited (tried to change {sorted(changed)})")
    status = state.attrs.status.history
    if status.has_changes() and status.deleted and status.deleted[0] == ReceiptStatus.VOID:
        raise RuntimeError("a void receipt stays void")


# --- background jobs --------------------------------------------------------


class JobStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for a consumer (or for its next attempt)
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # gave up; an admin may retry it


class JobRun(db.Model):
    """One run of a background job, kept up to date from the queue's signals."""

    __tablename__ = "job_runs"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({_sql_in([s.value for s in JobStatus])})", name="status_known"
        ),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_job_runs_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The queue's id of the run (a retry runs under the same id).
    task_id: Mapped[str] = mapped_column(String(64), unique=True)
    task_name: Mapped[str] = mapped_column(String(200))
    # The run's arguments as JSON: ids and flags only (donations.queue refuses others).
    args_summary: Mapped[str] = mapped_column(Text, default="[]")
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus, 10), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The consumer (``<host>:<pid>``) running its latest attempt: if that consumer falls
    # silent while the run is "running", the run was lost with it.
    consumer: Mapped[str] = mapped_column(String(255), default="", server_default="")


class DigestSend(db.Model):
    """One periodic digest mailed to one address on one day: the day's run sends it once."""

    __tablename__ = "digest_sends"
    __table_args__ = (
        UniqueConstraint("kind", "to_addr", "sent_on", name="uq_digest_sends_once_a_day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # e.g. "low_stock_digest"
    to_addr: Mapped[str] = mapped_column(String(254))
    sent_on: Mapped[date] = mapped_column(Date)  # the UTC day it is for
    message_id: Mapped[int | None] = mapped_column(ForeignKey("mail_outbox.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QueueConsumer(db.Model):
    """A queue consumer process (``flask jobs work``), with its last heartbeat."""

    __tablename__ = "queue_consumers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)  # "<host>:<pid>"
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# --- campaigns -------------------------------------------------------------------


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"  # being prepared: not public, takes no gifts
    LIVE = "live"  # public and taking gifts (until its end date)
    CLOSED = "closed"  # over: its page says so and sends donors to general giving


class Campaign(OrgScoped, db.Model):
    """A time-bound appeal with its own page: a money goal, goods goals, a story, an image."""

    __tablename__ = "campaigns"
    __table_args__ = (
        UniqueConstraint("organization_id", "slug", name="uq_campaigns_org_slug"),
        CheckConstraint(
            f"status IN ({_sql_in([s.value for s in CampaignStatus])})", name="status_known"
        ),
        CheckConstraint("goal_cents IS NULL OR goal_cents > 0", name="goal_positive"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(60))
    status: Mapped[CampaignStatus] = mapped_column(
        str_enum(CampaignStatus, 10), default=CampaignStatus.DRAFT
    )
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    goal_cents: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    default_fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"))
    story: Mapped[str] = mapped_column(Text, default="")
    # The image as served (re-encoded by the service); read only by the image route.
    image_data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    image_type: Mapped[str] = mapped_column(String(30), default="")
    image_etag: Mapped[str] = mapped_column(String(64), default="")
    image_width: Mapped[int | None] = mapped_column(Integer)
    image_height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    default_fund: Mapped[Fund | None] = relationship()
    goods_goals: Mapped[list[CampaignGoodsGoal]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        order_by="CampaignGoodsGoal.id",
    )

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.slug} {self.status}>"


class CampaignGoodsGoal(OrgScoped, db.Model):
    """How many of an item a campaign hopes to collect."""

    __tablename__ = "campaign_goods_goals"
    __table_args__ = (
        UniqueConstraint("campaign_id", "item_id", name="uq_campaign_goods_goals_item"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    campaign: Mapped[Campaign] = relationship(back_populates="goods_goals")
    item: Mapped[Item] = relationship()


# --- volunteers -------------------------------------------------------------------


class VolunteerStatus(enum.StrEnum):
    UNVERIFIED = "unverified"  # signed up; the email is not confirmed yet, so it counts for nothing
    PENDING = "pending"  # email confirmed, waiting for staff
    APPROVED = "approved"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return {
            "unverified": "Email not confirmed",
            "pending": "Waiting for review",
            "approved": "Approved",
            "declined": "Declined",
        }[self.value]


class CheckStatus(enum.StrEnum):
    """A volunteer's background check."""

    NONE = "none"
    PENDING = "pending"
    CLEARED = "cleared"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {
            "none": "Not done",
            "pending": "In progress",
            "cleared": "Cleared",
            "failed": "Not cleared",
        }[self.value]


class SignupStatus(enum.StrEnum):
    SIGNED_UP = "signed_up"
    CANCELLED = "cancelled"


class VolunteerSkill(OrgScoped, db.Model):
    """A skill volunteers may offer; the admin keeps the list (retired, never deleted)."""

    __tablename__ = "volunteer_skills"
    __table_args__ = (UniqueConstraint("organization_id", "name", name="uq_volunteer_skills_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    # Translation: the volunteer says which languages.
    asks_languages: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VolunteerSkillChoice(db.Model):
    """A skill one volunteer offers."""

    __tablename__ = "volunteer_skill_choices"

    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteers.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(ForeignKey("volunteer_skills.id"), primary_key=True)


class Volunteer(OrgScoped, db.Model):
    """Someone who offered to volunteer. Counts once the email is confirmed; serves once
    approved. No password: they reach their page through a signed link mailed to them."""

    __tablename__ = "volunteers"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({_sql_in([s.value for s in VolunteerStatus])})", name="status_known"
        ),
        CheckConstraint(
            f"background_check IN ({_sql_in([s.value for s in CheckStatus])})",
            name="check_status_known",
        ),
        CheckConstraint(
            "background_check <> 'cleared' OR "
            "(background_checked_on IS NOT NULL AND background_check_expires_on IS NOT NULL)",
            name="cleared_check_has_dates",
        ),
        CheckConstraint(
            "background_check_expires_on IS NULL OR background_checked_on IS NULL "
            "OR background_check_expires_on >= background_checked_on",
            name="check_expires_after_done",
        ),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        UniqueConstraint("organization_id", "email", name="uq_volunteers_email"),
        Index("ix_volunteers_status", "organization_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40), default="")
    # What they do for a living, when they offer it (a lawyer, a doctor): room for
    # professional services given without charge.
    profession: Mapped[str] = mapped_column(String(120), default="")
    languages: Mapped[str] = mapped_column(String(200), default="")
    availability: Mapped[str] = mapped_column(String(500), default="")
    # Weekdays they are usually free: "mon tue sat".
    available_days: Mapped[str] = mapped_column(String(30), default="")
    status: Mapped[VolunteerStatus] = mapped_column(
        str_enum(VolunteerStatus, 12), default=VolunteerStatus.UNVERIFIED
    )
    terms_accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    background_check: Mapped[CheckStatus] = mapped_column(
        str_enum(CheckStatus, 10), default=CheckStatus.NONE
    )
    background_checked_on: Mapped[date | None] = mapped_column(Date)
    background_check_expires_on: Mapped[date | None] = mapped_column(Date)
    training_completed_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Staff's notes, screened like every note: never a person served.
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    skills: Mapped[list[VolunteerSkill]] = relationship(
        secondary="volunteer_skill_choices", order_by="VolunteerSkill.name"
    )
    decided_by: Mapped[User | None] = relationship()

    @property
    def status_label(self) -> str:
        return VolunteerStatus(self.status).label

    @property
    def check_label(self) -> str:
        return CheckStatus(self.background_check).label

    @property
    def can_serve(self) -> bool:
        """Approved, active and confirmed: may sign up for shifts."""
        return self.status == VolunteerStatus.APPROVED and self.active

    def check_valid_on(self, day: date) -> bool:
        """Whether a cleared background check covers ``day``."""
        return (
            self.background_check == CheckStatus.CLEARED
            and self.background_checked_on is not None
            and self.background_check_expires_on is not None
            and self.background_checked_on <= day <= self.background_check_expires_on
        )


class VolunteerOpportunity(OrgScoped, db.Model):
    """Work volunteers may do (sorting donations, driving), offered as shifts."""

    __tablename__ = "volunteer_opportunities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    shifts: Mapped[list[VolunteerShift]] = relationship(
        back_populates="opportunity", order_by="VolunteerShift.starts_at"
    )


class VolunteerShift(OrgScoped, db.Model):
    """One stretch of an opportunity at a site. A sensitive shift needs a background check
    valid on its day."""

    __tablename__ = "volunteer_shifts"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity BETWEEN 1 AND 1000", name="capacity_range"),
        Index("ix_volunteer_shifts_start", "organization_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("volunteer_opportunities.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    opportunity: Mapped[VolunteerOpportunity] = relationship(back_populates="shifts")
    site: Mapped[Site] = relationship()
    signups: Mapped[list[ShiftSignup]] = relationship(
        back_populates="shift", order_by="ShiftSignup.id"
    )

    @property
    def taken(self) -> int:
        return sum(1 for s in self.signups if s.status == SignupStatus.SIGNED_UP)

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.taken, 0)


class ShiftSignup(OrgScoped, db.Model):
    """A volunteer's place on a shift (one row per pair: cancelling and signing up again
    reuses it). ``reminded_at``: the day-before reminder went out, never twice."""

    __tablename__ = "volunteer_signups"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({_sql_in([s.value for s in SignupStatus])})", name="status_known"
        ),
        UniqueConstraint("shift_id", "volunteer_id", name="uq_volunteer_signups_pair"),
        Index("ix_volunteer_signups_volunteer", "volunteer_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("volunteer_shifts.id"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    status: Mapped[SignupStatus] = mapped_column(
        str_enum(SignupStatus, 10), default=SignupStatus.SIGNED_UP
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    shift: Mapped[VolunteerShift] = relationship(back_populates="signups")
    volunteer: Mapped[Volunteer] = relationship()
    hours: Mapped[VolunteerHours | None] = relationship(back_populates="signup")

    @property
    def active(self) -> bool:
        return self.status == SignupStatus.SIGNED_UP


class VolunteerHours(OrgScoped, db.Model):
    """Time a volunteer gave on one day, in whole minutes: a shift's attendance (check-in
    and check-out, or hours typed) or work outside shifts."""

    __tablename__ = "volunteer_hours"
    __table_args__ = (
        CheckConstraint("minutes > 0 AND minutes <= 1440", name="minutes_in_a_day"),
        CheckConstraint(
            "checked_out_at IS NULL OR checked_in_at IS NULL OR checked_out_at > checked_in_at",
            name="out_after_in",
        ),
        Index("ix_volunteer_hours_volunteer", "volunteer_id", "worked_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    signup_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_signups.id"), unique=True)
    worked_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What was done, for work outside shifts; screened like every note.
    description: Mapped[str] = mapped_column(String(300), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    volunteer: Mapped[Volunteer] = relationship()
    signup: Mapped[ShiftSignup | None] = relationship(back_populates="hours")


# --- supporters' fundraising pages ------------------------------------------------


class SupporterPageStatus(enum.StrEnum):
    UNVERIFIED = "unverified"  # made; the supporter's email is not confirmed yet
    PENDING = "pending"  # email confirmed, waiting for staff
    APPROVED = "approved"  # public, and gifts through it count towards it
    HIDDEN = "hidden"  # taken down by staff (may come back)
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return {
            "unverified": "Email not confirmed",
            "pending": "Waiting for review",
            "approved": "Public",
            "hidden": "Hidden",
            "declined": "Declined",
        }[self.value]


class ReportReason(enum.StrEnum):
    MISLEADING = "misleading"
    OFFENSIVE = "offensive"
    PRIVATE = "private"  # names or shows someone who should not be shown
    SPAM = "spam"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "misleading": "It is misleading or a scam",
            "offensive": "It is offensive or hateful",
            "private": "It shows someone's private details",
            "spam": "It is spam",
            "other": "Something else",
        }[self.value]


class SupporterPage(OrgScoped, db.Model):
    """A supporter's own fundraising page under a campaign: their goal, a few lines of
    plain text and a photo. Public only once staff approve it; gifts through it count
    towards it and its campaign. No password: the supporter's dashboard is a signed link."""

    __tablename__ = "supporter_pages"
    __table_args__ = (
        UniqueConstraint("organization_id", "slug", name="uq_supporter_pages_org_slug"),
        CheckConstraint(
            f"status IN ({_sql_in([s.value for s in SupporterPageStatus])})",
            name="status_known",
        ),
        CheckConstraint("goal_cents > 0", name="goal_positive"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        Index("ix_supporter_pages_campaign", "organization_id", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    slug: Mapped[str] = mapped_column(String(60))
    supporter_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))  # lower case, as volunteers'
    title: Mapped[str] = mapped_column(String(120))
    story: Mapped[str] = mapped_column(Text, default="")  # plain text, screened
    goal_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    photo_data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    photo_type: Mapped[str] = mapped_column(String(30), default="")
    photo_etag: Mapped[str] = mapped_column(String(64), default="")
    photo_width: Mapped[int | None] = mapped_column(Integer)
    photo_height: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[SupporterPageStatus] = mapped_column(
        str_enum(SupporterPageStatus, 12), default=SupporterPageStatus.UNVERIFIED
    )
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship()
    decided_by: Mapped[User | None] = relationship()

    @property
    def status_label(self) -> str:
        return SupporterPageStatus(self.status).label

    @property
    def is_public(self) -> bool:
        return self.status == SupporterPageStatus.APPROVED

    def __repr__(self) -> str:
        return f"<SupporterPage {self.id} {self.slug} {self.status}>"


class SupporterPageReport(OrgScoped, db.Model):
    """A visitor's report of a supporter page, for staff to look at."""

    __tablename__ = "supporter_page_reports"
    __table_args__ = (
        CheckConstraint(
            f"reason IN ({_sql_in([r.value for r in ReportReason])})", name="reason_known"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("supporter_pages.id"), index=True)
    reason: Mapped[ReportReason] = mapped_column(str_enum(ReportReason, 12))
    details: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    page: Mapped[SupporterPage] = relationship()

    @property
    def reason_label(self) -> str:
        return ReportReason(self.reason).label


class ServiceType(enum.StrEnum):
    """The kinds of professional service given without charge (pro bono)."""

    LEGAL = "legal"
    MEDICAL = "medical"
    COUNSELLING = "counselling"
    TRANSLATION = "translation"
    GRANT_WRITING = "grant_writing"
    ACCOUNTING = "accounting"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "legal": "Legal",
            "medical": "Medical",
            "counselling": "Counselling",
            "translation": "Translation",
            "grant_writing": "Grant writing",
            "accounting": "Accounting",
            "other": "Other professional service",
        }[self.value]


class AcknowledgementSequence(OrgScoped, db.Model):
    """The last number of an acknowledgement series ("PB") in a year; locked while a
    number is taken, as ``receipt_sequences`` is, so the series runs gap-free."""

    __tablename__ = "acknowledgement_sequences"
    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number_not_negative"),)

    organization_id: Mapped[int] = mapped_column(
        Integer, primary_key=True, default=current_organization_id
    )
    series: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class ContributedService(OrgScoped, db.Model):
    """A professional's service given without charge, acknowledged in writing with its
    hours and description, never a value: contributed services are not deductible.

    The fair hourly rate is kept for the books (the grant report) only. The number is
    taken when the service is logged; a void keeps it (``voided_at``), nothing is deleted.
    """

    __tablename__ = "contributed_services"
    __table_args__ = (
        CheckConstraint(
            f"service_type IN ({_sql_in([t.value for t in ServiceType])})", name="type_known"
        ),
        CheckConstraint("minutes > 0 AND minutes <= 1440", name="minutes_in_a_day"),
        CheckConstraint("fair_rate_cents >= 0", name="rate_not_negative"),
        CheckConstraint("length(currency) = 3", name="currency_code_length"),
        UniqueConstraint("organization_id", "number", name="uq_contributed_services_number"),
        Index("ix_contributed_services_date", "organization_id", "service_date"),
        Index("ix_contributed_services_volunteer", "volunteer_id", "service_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    service_type: Mapped[ServiceType] = mapped_column(str_enum(ServiceType, 20))
    # What was done; screened like every note (never a person served).
    description: Mapped[str] = mapped_column(String(500), default="")
    service_date: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    # The program served; empty: the organisation as a whole (a grant application).
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("recipients.id"), index=True)
    # For the books only: never printed on the acknowledgement.
    fair_rate_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    number: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str] = mapped_column(String(300), default="")
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    volunteer: Mapped[Volunteer] = relationship()
    program: Mapped[Recipient | None] = relationship()

    @property
    def type_label(self) -> str:
        return ServiceType(self.service_type).label

    @property
    def voided(self) -> bool:
        return self.voided_at is not None
