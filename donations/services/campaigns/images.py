"""A campaign's image: checked as a real image, resized and re-encoded with Pillow,
kept in the database and served with a validator (its ETag)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from donations.extensions import db
from donations.models import Campaign, User
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from PIL import Image

IMAGE_MAX_BYTES = 8 * 1024 * 1024  # what an upload may weigh
IMAGE_MAX_PIXELS = 40_000_000  # what it may hold once decoded (a "decompression bomb" guard)
IMAGE_MAX_SIDE = 1200  # the longer side of the image as served
IMAGE_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
SERVED_TYPE = "image/jpeg"
JPEG_QUALITY = 85


@dataclass(frozen=True)
class PreparedImage:
    data: bytes
    content_type: str
    etag: str
    width: int
    height: int


def _on_white(image: Image.Image) -> Image.Image:
    """The image as RGB, any transparent part on white (JPEG has no transparency)."""
    from PIL import Image  # noqa: PLC0415 -- Pillow loads with the first image, not at start

    if image.mode == "RGB":
        return image
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def prepare_image(data: bytes) -> PreparedImage:
    """Return the upload resized to at most IMAGE_MAX_SIDE and re-encoded as JPEG (no
    metadata kept); raise InvalidInput, for the "image" field, for anything else."""
    from PIL import Image, ImageOps, UnidentifiedImageError  # noqa: PLC0415 -- see _on_white

    if not data:
        raise InvalidInput(
            "The file is empty. Choose a JPEG, PNG, WebP or GIF image.", field="image"
        )
    if len(data) > IMAGE_MAX_BYTES:
        raise InvalidInput(
            f"The image is {len(data) / 1024 / 1024:.1f} MB; use one of at most "
            f"{IMAGE_MAX_BYTES // 1024 // 1024} MB.",
            field="image",
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
            probe.verify()
        if kind not in IMAGE_FORMATS:
            raise InvalidInput(
                f"The file is a {kind} image; use a JPEG, PNG, WebP or GIF image.", field="image"
            )
        if width * height > IMAGE_MAX_PIXELS:
            raise InvalidInput(
                f"The image is {width} x {height} pixels; use one of at most "
                f"{IMAGE_MAX_PIXELS // 1_000_000} million pixels.",
                field="image",
            )
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE))
            image = _on_white(image)
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
            size = image.size
    except InvalidInput:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInput(
            "That file is not an image we can read. Choose a JPEG, PNG, WebP or GIF image.",
            field="image",
        ) from None
    encoded = out.getvalue()
    return PreparedImage(
        data=encoded,
        content_type=SERVED_TYPE,
        etag=hashlib.sha256(encoded).hexdigest(),
        width=size[0],
        height=size[1],
    )


def set_campaign_image(*, actor: User | None, campaign: Campaign, data: bytes) -> Campaign:
    """Check, resize and keep a new image for the campaign."""
    prepared = prepare_image(data)
    campaign.image_data = prepared.data
    campaign.image_type = prepared.content_type
    campaign.image_etag = prepared.etag
    campaign.image_width, campaign.image_height = prepared.width, prepared.height
    db.session.flush()
    record_audit(
        actor=actor,
        action="campaign.image",
        object_type="campaign",
        object_id=campaign.id,
        summary=f"new image {prepared.width} x {prepared.height} ({len(prepared.data)} bytes)",
    )
    return campaign


def remove_campaign_image(*, actor: User | None, campaign: Campaign) -> Campaign:
    campaign.image_data = None
    campaign.image_type = ""
    campaign.image_etag = ""
    campaign.image_width = campaign.image_height = None
    db.session.flush()
    record_audit(
        actor=actor,
        action="campaign.image",
        object_type="campaign",
        object_id=campaign.id,
        summary="image removed",
    )
    return campaign


@dataclass(frozen=True)
class StoredImage:
    data: bytes
    content_type: str
    etag: str


def campaign_image(campaign: Campaign) -> StoredImage:
    """The image as stored; NotFound when the campaign has none."""
    if not campaign.image_etag or campaign.image_data is None:
        raise NotFound("This campaign has no image.")
    return StoredImage(campaign.image_data, campaign.image_type, campaign.image_etag)
