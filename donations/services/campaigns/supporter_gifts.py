"""Gifts through a supporter's page: which page a new gift counts for, what happens when
the page is hidden while the donor pays, and the supporter's mail for each gift.

A gift given through a page always carries the page's campaign, so it lands on the
campaign whatever becomes of the page. It counts on the page too only while the page is
approved: a page hidden (or otherwise taken down) between the donation form and the
payment keeps its campaign's gift but not the gift itself. The gift's page is then
cleared, at checkout or when the payment succeeds, and the audit log says so; no mail
goes to the supporter. A gift paid while the page was public stays on it.
"""

from __future__ import annotations

from donations.extensions import db
from donations.models import Gift, SupporterPage
from donations.money import format_money
from donations.services.audit import record_audit
from donations.services.campaigns.supporter_figures import first_name, page_progress
from donations.services.campaigns.supporter_links import dashboard_url
from donations.services.campaigns.supporters import org_name
from donations.services.errors import InvalidInput
from donations.services.mail import queue_mail

GIFT_MAIL_KIND = "supporter_gift"


def check_page_of_donation(page_id: int | None, campaign_id: int | None) -> None:
    """Refuse a donation naming a page that is not under its campaign (a forged form)."""
    if page_id is None:
        return
    page = db.session.get(SupporterPage, page_id)
    if page is None or page.campaign_id != campaign_id:
        raise InvalidInput("This fundraising page is not part of this campaign.", field="campaign")


def page_for_new_gift(page_id: int | None, campaign_id: int | None) -> int | None:
    """The page a new pending gift counts for: the one given, while it is approved and
    under the gift's campaign; else None (the gift counts for the campaign only)."""
    if page_id is None:
        return None
    check_page_of_donation(page_id, campaign_id)
    page = db.session.get(SupporterPage, page_id)
    if page is not None and page.is_public:
        return page.id
    record_audit(
        actor=None,
        action="supporter_page.gift_not_counted",
        object_type="supporter_page",
        object_id=page_id,
        summary="a gift reached checkout after the page was taken down: campaign only",
    )
    return None


def supporter_gift_paid(gift: Gift) -> None:
    """Once per paid gift (and instalment): keep it on its page and mail the supporter,
    or, if the page is no longer approved, take it off the page (audited)."""
    if gift.supporter_page_id is None:
        return
    page = db.session.get(SupporterPage, gift.supporter_page_id)
    if page is None:
        return
    if not page.is_public:
        gift.supporter_page_id = None
        db.session.flush()
        record_audit(
            actor=None,
            action="supporter_page.gift_not_counted",
            object_type="gift",
            object_id=gift.id,
            summary=f"page {page.id} is {page.status}: the gift counts for its campaign only",
        )
        return
    db.session.flush()
    _mail_supporter(page, gift)


def _mail_supporter(page: SupporterPage, gift: Gift) -> None:
    """Tell the supporter about one gift: the donor's first name unless the gift is
    anonymous, the amount only if the donor agreed, never the donor's email."""
    giver = (
        "Someone who asked to stay anonymous" if gift.is_anonymous else first_name(gift.donor.name)
    )
    what = "a gift"
    if gift.shares_amount:
        what = f"a gift of {format_money(gift.amount_cents, gift.currency)}"
    progress = page_progress(page)
    total = (
        f"Your page has now raised {format_money(progress.raised_cents, progress.currency)} "
        f"of your {format_money(page.goal_cents, page.currency)} goal from "
        f"{progress.donors} donor{'' if progress.donors == 1 else 's'}."
    )
    lines = [
        f"Dear {page.supporter_name},",
        "",
        f"{giver} made {what} through your page “{page.title}” for {org_name()}.",
        total,
        "",
        "See your page's gifts and donors (the link works for 30 days):",
        dashboard_url(page),
        "",
        "Thank you for fundraising for survivors of human trafficking.",
    ]
    queue_mail(
        kind=GIFT_MAIL_KIND,
        to=page.email,
        subject=f"A new gift through your page “{page.title}”",
        body_text="\n".join(lines) + "\n",
    )
