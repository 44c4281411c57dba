"""Small text helpers shared by the services."""

from __future__ import annotations


def like_pattern(text: str) -> str:
    """Return a LIKE pattern matching ``text`` anywhere, with % and _ taken literally.

    Use it with ``escape="\\"``.
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
