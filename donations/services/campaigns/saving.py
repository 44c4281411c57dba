"""Saving a campaign from its admin form: its values and, with them, its image."""

from __future__ import annotations

from donations.models import Campaign, User
from donations.services.campaigns.images import remove_campaign_image, set_campaign_image
from donations.services.campaigns.rules import CampaignValues, create_campaign, update_campaign
from donations.services.errors import InvalidInput


def save_campaign(
    *,
    actor: User | None,
    campaign: Campaign | None,
    values: CampaignValues,
    image: bytes | None = None,
    remove_image: bool = False,
) -> Campaign:
    """Add the campaign (``campaign`` None) or change it, then set or remove its image.

    One unit: a refused value or image leaves nothing stored.
    """
    if image is not None and remove_image:
        raise InvalidInput(
            "Either upload a new image or tick “remove the image”, not both.", field="image"
        )
    if campaign is None:
        campaign = create_campaign(actor=actor, values=values)
    else:
        campaign = update_campaign(actor=actor, campaign=campaign, values=values)
    if image is not None:
        set_campaign_image(actor=actor, campaign=campaign, data=image)
    elif remove_image and campaign.image_etag:
        remove_campaign_image(actor=actor, campaign=campaign)
    return campaign
