"""The app as ``wsgi:app``, with the blank donation page drawn on every request.

bench_give_page.py serves this beside the default app, so one run reports the page
both ways: drawn every time (GIVE_PAGE_CACHE off) and from memory with the token put in.
"""

from wsgi import app

app.config["GIVE_PAGE_CACHE"] = False
