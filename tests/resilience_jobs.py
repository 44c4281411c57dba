"""Jobs for tests/test_resilience.py, and an app factory so a `flask jobs work` consumer
started as a separate process (``--app resilience_jobs``) knows them too."""

from __future__ import annotations

import os
import time

from flask import Flask

from donations import create_app as create_donations_app
from donations.extensions import db
from donations.models import Fund
from donations.queue import job


@job()
def add_fund(name: str) -> None:
    """Adds a fund (the name is unique: a second run of the same job would fail)."""
    db.session.add(Fund(name=name))


@job()
def hold_while(path: str) -> None:
    """Keeps its worker busy while ``path`` exists (at most 60 s)."""
    deadline = time.monotonic() + 60
    while os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)


def create_app() -> Flask:
    """The app, configured from the environment, with these jobs declared."""
    return create_donations_app()
