"""The baseline for bench_give_page: a bare Flask page serving the same bytes as ``/give``.

The page's HTML is made into a Jinja template once, at import, from the app's own
``jinja_env`` (autoescaping, the same settings), and rendered per request with a few
variables, so the baseline does the fair minimum a dynamic page must do and no more:
no recompiling, no database, no session. Its Jinja environment is the product's
(``donations.app_class``: a template's globals read without copying a ChainMap), so the
baseline renders as fast as the product knows how, and it freezes what it made, as wsgi.py
does.
"""

from __future__ import annotations

import gc
import os

from flask import Flask

from donations.app_class import KeptGlobalsEnvironment


class BareFlask(Flask):
    jinja_environment = KeptGlobalsEnvironment


app = BareFlask(__name__)
PAGE = open(os.environ["BARE_PAGE_FILE"], encoding="utf-8").read()  # noqa: SIM115
TITLE = "<title>Give · "
if TITLE not in PAGE:
    raise SystemExit("the donation page has no <title>Give · ...: update bare_app.py")
# The same bytes as the donation page, with its title as a variable.
SOURCE = PAGE.replace(TITLE, "<title>{{ title }} · ", 1)
TEMPLATE = app.jinja_env.from_string(SOURCE)  # compiled once


@app.get("/")
def page():
    return TEMPLATE.render(title="Give")


BYTES = TEMPLATE.render(title="Give").encode()


def raw(environ, start_response):
    """No framework at all: the load generator's ceiling, to show it is not what is measured."""
    start_response(
        "200 OK",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(BYTES)))],
    )
    return [BYTES]


# As wsgi.py does for the app: what exists now lives as long as the worker.
gc.freeze()
