"""Campaigns: time-bound appeals with their own page, a money goal, goods goals, a story
and an image; gifts, pledges and intakes tagged with one count towards it."""

from donations.services.campaigns.chart import days_svg
from donations.services.campaigns.images import (
    IMAGE_MAX_BYTES,
    campaign_image,
    prepare_image,
    remove_campaign_image,
    set_campaign_image,
)
from donations.services.campaigns.progress import (
    GoodsLine,
    Progress,
    campaign_progress,
    goods_collected,
)
from donations.services.campaigns.report import (
    CSV_HEADER,
    CampaignFigures,
    all_campaign_figures,
    appeal_rows,
    campaign_figures,
    figures_csv,
)
from donations.services.campaigns.rules import (
    GOODS_GOALS_MAX,
    NAME_MAX_LENGTH,
    SLUG_RULE,
    STORY_MAX_LENGTH,
    CampaignNotOpen,
    CampaignValues,
    accepts_gifts,
    campaign_by_slug,
    create_campaign,
    get_campaign,
    is_over,
    list_campaigns,
    open_campaign,
    public_campaigns,
    recorded_campaign,
    set_campaign_status,
    set_goods_goals,
    update_campaign,
)
from donations.services.campaigns.saving import save_campaign

__all__ = [
    "CSV_HEADER",
    "GOODS_GOALS_MAX",
    "IMAGE_MAX_BYTES",
    "NAME_MAX_LENGTH",
    "SLUG_RULE",
    "STORY_MAX_LENGTH",
    "CampaignFigures",
    "CampaignNotOpen",
    "CampaignValues",
    "GoodsLine",
    "Progress",
    "accepts_gifts",
    "all_campaign_figures",
    "appeal_rows",
    "campaign_by_slug",
    "campaign_figures",
    "campaign_image",
    "campaign_progress",
    "create_campaign",
    "days_svg",
    "figures_csv",
    "get_campaign",
    "goods_collected",
    "is_over",
    "list_campaigns",
    "open_campaign",
    "prepare_image",
    "public_campaigns",
    "recorded_campaign",
    "remove_campaign_image",
    "save_campaign",
    "set_campaign_image",
    "set_campaign_status",
    "set_goods_goals",
    "update_campaign",
]
