"""Which other sites may frame a campaign's compact donation form (/give/<slug>/embed).

An admin lists the sites' origins, one a line, on the organisation settings page; the
embed's response names them in its Content-Security-Policy ``frame-ancestors``. Every
other page keeps refusing to be framed. An origin here is ``https://`` plus a host name
(optionally ``*.`` before it, for every subdomain) and an optional port: no path, query,
user name or other wildcard, so nothing an admin types can add to or break the header.
"""

from __future__ import annotations

import re

from donations.services.errors import InvalidInput

FIELD = "embed_origins"
MAX_ORIGINS = 20
NONE = "'none'"  # the header's value when no site may frame the form

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ORIGIN_RE = re.compile(
    rf"^https://(?P<host>(?:\*\.)?(?:{_LABEL}\.)+[a-z][a-z0-9-]*[a-z0-9])(?::(?P<port>\d{{1,5}}))?/?$"
)
EXAMPLE = "https://www.example.org"


def _origin(line: str, number: int) -> str:
    """Return one typed origin in the form the header uses, or raise InvalidInput."""
    typed = line.strip()
    value = typed.lower()
    where = f"Line {number} ({typed})"
    if not value.startswith("https://"):
        raise InvalidInput(
            f"{where}: start the address with https://, such as {EXAMPLE}.", field=FIELD
        )
    match = _ORIGIN_RE.match(value)
    if match is None:
        rest = value.removeprefix("https://")
        if "/" in rest.rstrip("/") or "?" in rest or "#" in rest:
            problem = "give the site's address only, without a path, such as " + EXAMPLE
        elif "*" in rest:
            problem = "a star may only stand for every subdomain, as in https://*.example.org"
        else:
            problem = f"write a site's address as https:// and its host name, such as {EXAMPLE}"
        raise InvalidInput(f"{where}: {problem}.", field=FIELD)
    host, port = match["host"], match["port"]
    if len(host) > 253:
        raise InvalidInput(f"{where}: the host name is too long.", field=FIELD)
    if port is not None and not 0 < int(port) < 65536:
        raise InvalidInput(f"{where}: a port is a number from 1 to 65535.", field=FIELD)
    return f"https://{host}" + (f":{int(port)}" if port is not None and int(port) != 443 else "")


def check_embed_origins(text: str | None) -> str:
    """Return the origins as stored (lower case, one a line, no repeats), or raise
    InvalidInput naming the first line that is not an https site address."""
    origins: list[str] = []
    lines = (text or "").replace("\r\n", "\n").split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        origin = _origin(line, number)
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        raise InvalidInput(f"List at most {MAX_ORIGINS} sites.", field=FIELD)
    return "\n".join(origins)


def frame_ancestors(stored: str | None) -> str:
    """The ``frame-ancestors`` sources for the stored origins: ``'none'`` when there are none."""
    origins = [line for line in (stored or "").split("\n") if line]
    return " ".join(origins) if origins else NONE
