"""The baseline for bench_give_page: a bare Flask app rendering a page of the same size."""

from __future__ import annotations

import os

from flask import Flask, render_template_string

app = Flask(__name__)
PAGE = open(os.environ["BARE_PAGE_FILE"], encoding="utf-8").read()  # noqa: SIM115
# The same bytes as the donation page, with a few variables so Jinja does some work.
TEMPLATE = PAGE.replace("<title>", "<title>{{ title }} ", 1) + "{# {{ footer }} #}"


@app.get("/")
def page():
    return render_template_string(TEMPLATE, title="Give", footer="bench")
