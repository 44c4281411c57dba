"""Supporters' fundraising pages: made under a live campaign, confirmed by email,
approved by staff before they are public, hidden at any time, reported by visitors.

A page's story is plain text: stored as typed (trimmed), screened like every note
(``privacy.check_free_text``), and always shown escaped, never as links. Editing the
title, goal or story keeps an approved page public (the screen runs again); a new
photo sends an approved page back to staff, since no screen can read a photo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from donations.extensions import db
from donations.models import (
    Campaign,
    ReportReason,
    SupporterPage,
    SupporterPageReport,
    SupporterPageStatus,
    User,
    utcnow,
)
from donations.services import privacy
from donations.services.accounts import normalize_email
from donations.services.audit import record_audit
from donations.services.campaigns.images import prepare_image
from donations.services.campaigns.rules import GOAL_CENTS_MAX, accepts_gifts, campaign_by_slug
from donations.services.campaigns.supporter_links import confirm_url, dashboard_url
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.locking import serialize_writes
from donations.services.mail import queue_mail
from donations.services.org_slugs import slugify
from donations.services.organization import get_organization

NAME_MAX_LENGTH: int = SupporterPage.__table__.c.supporter_name.type.length
PAGE_TITLE_MAX_LENGTH: int = SupporterPage.__table__.c.title.type.length
PAGE_STORY_MAX_LENGTH = 2000  # "a few lines": a Text column; this is the policy limit
DETAILS_MAX_LENGTH: int = SupporterPageReport.__table__.c.details.type.length
CONFIRM_KIND = "supporter_confirm"
LINK_KIND = "supporter_link"
NOT_TAKING_PAGES = (
    "This campaign is not taking new fundraising pages now. You can still give to our general fund."
)
# What staff may do to a page, from which statuses, and what it becomes.
DECISIONS: dict[str, tuple[frozenset[SupporterPageStatus], SupporterPageStatus]] = {
    "approve": (
        frozenset({SupporterPageStatus.PENDING, SupporterPageStatus.DECLINED}),
        SupporterPageStatus.APPROVED,
    ),
    "decline": (frozenset({SupporterPageStatus.PENDING}), SupporterPageStatus.DECLINED),
    "hide": (frozenset({SupporterPageStatus.APPROVED}), SupporterPageStatus.HIDDEN),
    "unhide": (frozenset({SupporterPageStatus.HIDDEN}), SupporterPageStatus.APPROVED),
}


@dataclass(frozen=True)
class PageValues:
    """What a supporter typed for their page, already parsed by its form."""

    title: str
    goal_cents: int | None
    story: str


@dataclass(frozen=True)
class Supporter:
    """Who makes the page."""

    name: str
    email: str


def org_name() -> str:
    org = get_organization()
    return org.legal_name if org and org.legal_name else "our shelter"


def _checked(values: PageValues) -> dict:
    title = " ".join((values.title or "").split())
    if not title:
        raise InvalidInput("Enter a title for your page.", field="title")
    if len(title) > PAGE_TITLE_MAX_LENGTH:
        raise InvalidInput(f"Use at most {PAGE_TITLE_MAX_LENGTH} characters.", field="title")
    goal = values.goal_cents
    if goal is None or isinstance(goal, bool) or not 0 < goal <= GOAL_CENTS_MAX:
        raise InvalidInput("Enter a goal greater than zero.", field="goal")
    story = (values.story or "").replace("\r\n", "\n").strip()
    if len(story) > PAGE_STORY_MAX_LENGTH:
        raise InvalidInput(f"Use at most {PAGE_STORY_MAX_LENGTH:,} characters.", field="story")
    privacy.check_free_text(title, field="title")
    privacy.check_free_text(story, field="story")
    return {"title": title, "goal_cents": goal, "story": story}


def _free_slug(title: str) -> str:
    """A slug made from the title, unique in the organisation (a number added if taken)."""
    base = slugify(title)[:50].rstrip("-") or "page"
    if len(base) < 2:
        base = f"page-{base}"
    taken = set(
        db.session.scalars(
            select(SupporterPage.slug).where(
                (SupporterPage.slug == base) | SupporterPage.slug.like(f"{base}-%")
            )
        )
    )
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _set_photo(page: SupporterPage, data: bytes) -> None:
    try:
        prepared = prepare_image(data)
    except InvalidInput as error:
        raise InvalidInput(error.message, field="photo") from None
    page.photo_data = prepared.data
    page.photo_type = prepared.content_type
    page.photo_etag = prepared.etag
    page.photo_width, page.photo_height = prepared.width, prepared.height


def _mail_confirmation(page: SupporterPage) -> None:
    lines = [
        f"Dear {page.supporter_name},",
        "",
        f"Thank you for fundraising for {org_name()} with your page “{page.title}”. "
        "Please confirm your email address by opening this link (it works for 7 days):",
        confirm_url(page),
        "",
        "Once confirmed, our staff look at your page before it is public.",
        "If you did not make this page, ignore this message: nothing happens without the link.",
    ]
    queue_mail(
        kind=CONFIRM_KIND,
        to=page.email,
        subject=f"Confirm your email for your fundraising page at {org_name()}",
        body_text="\n".join(lines) + "\n",
    )


def mail_dashboard_link(page: SupporterPage) -> None:
    lines = [
        f"Dear {page.supporter_name},",
        "",
        f"Here is the link to your fundraising page's dashboard at {org_name()}: it shows "
        "whether staff have approved the page, what it has raised and who gave. It works "
        "for 30 days, and every gift through your page mails you a fresh one:",
        dashboard_url(page),
    ]
    queue_mail(
        kind=LINK_KIND,
        to=page.email,
        subject=f"Your fundraising page at {org_name()}",
        body_text="\n".join(lines) + "\n",
    )


def start_page(
    *,
    campaign: Campaign,
    supporter: Supporter,
    values: PageValues,
    photo: bytes | None = None,
) -> SupporterPage:
    """Make a page under a live campaign, waiting for its email to be confirmed, and mail
    the confirmation link. Nothing is stored when any value is refused."""
    if not accepts_gifts(campaign):
        raise NotAllowed(NOT_TAKING_PAGES)
    name = " ".join((supporter.name or "").split())
    if not name:
        raise InvalidInput("Enter your name.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"Use at most {NAME_MAX_LENGTH} characters.", field="name")
    email = normalize_email(supporter.email or "")
    if not email or "@" not in email or len(email) > 254:
        raise InvalidInput("Enter a valid email address.", field="email")
    fields = _checked(values)
    serialize_writes("supporter_page")  # two sign-ups at once never take the same slug
    page = SupporterPage(
        campaign_id=campaign.id,
        slug=_free_slug(fields["title"]),
        supporter_name=name,
        email=email,
        currency=campaign.currency,
        status=SupporterPageStatus.UNVERIFIED,
        **fields,
    )
    if photo is not None:
        _set_photo(page, photo)
    db.session.add(page)
    db.session.flush()
    record_audit(
        actor=None,
        action="supporter_page.start",
        object_type="supporter_page",
        object_id=page.id,
        summary=f"campaign {campaign.id}, {page.slug}",
    )
    _mail_confirmation(page)
    return page


def confirm_page_email(*, page: SupporterPage, now: datetime | None = None) -> SupporterPage:
    """Confirm the page's address: the page now waits for staff. Confirming twice changes
    nothing more."""
    if page.status == SupporterPageStatus.UNVERIFIED:
        page.status = SupporterPageStatus.PENDING
        page.email_verified_at = now or utcnow()
        db.session.flush()
        record_audit(
            actor=None,
            action="supporter_page.confirm_email",
            object_type="supporter_page",
            object_id=page.id,
        )
        mail_dashboard_link(page)
    return page


def edit_page(
    *, page: SupporterPage, values: PageValues, photo: bytes | None = None
) -> SupporterPage:
    """Change the page's title, goal and story (screened again; an approved page stays
    public) and, with ``photo``, its photo (an approved page goes back to staff)."""
    if page.status == SupporterPageStatus.DECLINED:
        raise NotAllowed("This page was declined and can no longer be changed.")
    fields = _checked(values)
    for name, value in fields.items():
        setattr(page, name, value)
    summary = "text"
    if photo is not None:
        _set_photo(page, photo)
        summary = "text and photo"
        if page.status == SupporterPageStatus.APPROVED:
            page.status = SupporterPageStatus.PENDING
            summary += "; back to staff for a new photo"
    db.session.flush()
    record_audit(
        actor=None,
        action="supporter_page.edit",
        object_type="supporter_page",
        object_id=page.id,
        summary=summary,
    )
    return page


def decide_page(*, actor: User | None, page: SupporterPage, action: str) -> SupporterPage:
    """Approve, decline, hide or unhide a page (staff and admins)."""
    if action not in DECISIONS:
        raise InvalidInput("Choose approve, decline, hide or unhide.", field="action")
    allowed, becomes = DECISIONS[action]
    if page.status not in allowed:
        raise NotAllowed(
            f"A page that is {page.status_label.lower()} cannot be {action}d."
            if action != "unhide"
            else "Only a hidden page can be shown again."
        )
    page.status = becomes
    page.decided_at = utcnow()
    page.decided_by_id = actor.id if actor is not None else None
    if becomes == SupporterPageStatus.APPROVED and page.approved_at is None:
        page.approved_at = page.decided_at
    db.session.flush()
    record_audit(
        actor=actor,
        action=f"supporter_page.{action}",
        object_type="supporter_page",
        object_id=page.id,
        summary=page.slug,
    )
    return page


def report_page(*, page: SupporterPage, reason: str, details: str = "") -> SupporterPageReport:
    """Keep a visitor's report of a public page for staff."""
    if not page.is_public:
        raise NotFound("There is no such page.")
    if reason not in {r.value for r in ReportReason}:
        raise InvalidInput("Choose a reason from the list.", field="reason")
    details = " ".join((details or "").split())
    if len(details) > DETAILS_MAX_LENGTH:
        raise InvalidInput(f"Use at most {DETAILS_MAX_LENGTH} characters.", field="details")
    report = SupporterPageReport(page_id=page.id, reason=ReportReason(reason), details=details)
    db.session.add(report)
    db.session.flush()
    record_audit(
        actor=None,
        action="supporter_page.report",
        object_type="supporter_page",
        object_id=page.id,
        summary=reason,
    )
    return report


# --- finding pages ------------------------------------------------------------------


def get_page(page_id: int) -> SupporterPage:
    page = db.session.get(SupporterPage, page_id)
    if page is None:
        raise NotFound("There is no such page.")
    return page


def page_by_slugs(campaign_slug: str, page_slug: str) -> SupporterPage | None:
    """The current organisation's page with this slug under this campaign, in any status
    (the caller decides what the public may see)."""
    campaign = campaign_by_slug(campaign_slug)
    if campaign is None:
        return None
    return db.session.scalar(
        select(SupporterPage).where(
            SupporterPage.campaign_id == campaign.id,
            SupporterPage.slug == page_slug.lower(),
        )
    )


def public_page(campaign_slug: str, page_slug: str) -> SupporterPage | None:
    """The page if the public may see it: approved; else None (a 404)."""
    page = page_by_slugs(campaign_slug, page_slug)
    return page if page is not None and page.is_public else None


@dataclass(frozen=True)
class QueueRow:
    page: SupporterPage
    reports: int
    reasons: tuple[str, ...]


def page_queue(*, status: SupporterPageStatus | None = None) -> list[QueueRow]:
    """The pages staff look after: waiting ones first, then by newest; with each page's
    reports. Unconfirmed pages are left out (they count for nothing yet)."""
    order = (SupporterPage.status != SupporterPageStatus.PENDING, SupporterPage.id.desc())
    query = select(SupporterPage).order_by(*order)
    if status is not None:
        query = query.where(SupporterPage.status == status)
    else:
        query = query.where(SupporterPage.status != SupporterPageStatus.UNVERIFIED)
    pages = list(db.session.scalars(query.limit(200)))
    counts: dict[int, list[str]] = {}
    if pages:
        rows = db.session.execute(
            select(SupporterPageReport.page_id, SupporterPageReport.reason, func.count())
            .where(SupporterPageReport.page_id.in_([p.id for p in pages]))
            .group_by(SupporterPageReport.page_id, SupporterPageReport.reason)
        )
        for page_id, reason, count in rows:
            counts.setdefault(page_id, []).extend([ReportReason(reason).label] * int(count))
    return [
        QueueRow(page, len(counts.get(page.id, [])), tuple(dict.fromkeys(counts.get(page.id, []))))
        for page in pages
    ]


def page_reports(page: SupporterPage) -> list[SupporterPageReport]:
    return list(
        db.session.scalars(
            select(SupporterPageReport)
            .where(SupporterPageReport.page_id == page.id)
            .order_by(SupporterPageReport.id.desc())
        )
    )
