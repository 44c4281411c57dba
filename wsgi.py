"""Entry point for gunicorn: ``gunicorn wsgi:app``.

Serving refuses to start without a SECRET_KEY (sessions would not survive a restart)
or a PUBLIC_BASE_URL (links in mail, PDFs and Stripe would point at the default
http://127.0.0.1:5000, and TRUSTED_HOSTS would refuse the real address).
"""

import gc

from sqlalchemy.orm import configure_mappers

from donations import create_app

app = create_app()

if app.config.get("SECRET_KEY_IS_EPHEMERAL"):
    raise RuntimeError(
        "SECRET_KEY is not set: put it in instance/config.py or the SECRET_KEY variable"
    )
if app.config.get("PUBLIC_BASE_URL_IS_DEFAULT"):
    raise RuntimeError(
        "PUBLIC_BASE_URL is not set: put the site's address (e.g. https://give.example.org) "
        "in instance/config.py or the PUBLIC_BASE_URL variable"
    )

# SQLAlchemy sets up its mappers at the first ORM query (some 50 ms); a worker does it
# now, so no request waits for it (a webhook delivery's first ORM query may come late).
configure_mappers()

# The app lives as long as the worker: leave its objects out of every later collection
# (shorter pauses per request, and pages a forked worker shares stay shared).
gc.freeze()
