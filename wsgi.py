"""Entry point for gunicorn: ``gunicorn wsgi:app``."""

from donations import create_app

app = create_app()

if app.config.get("SECRET_KEY_IS_EPHEMERAL"):
    raise RuntimeError(
        "SECRET_KEY is not set: put it in instance/config.py or the SECRET_KEY variable"
    )
