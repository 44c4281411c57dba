"""Templates' url_for keeps only the URLs that are the same on every request."""

from __future__ import annotations

from flask import Flask, render_template_string

from donations.templating import kept_url_for


def _app() -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/give", "give", lambda: "")
    app.add_url_rule("/gift/<int:id>", "gift", lambda id: "")
    app.jinja_env.globals["url_for"] = kept_url_for(app)
    return app


def _render(app: Flask, source: str, **environ) -> str:
    with app.test_request_context("/", environ_overrides=environ):
        return render_template_string(source)


def test_kept_urls_follow_where_the_app_is_mounted():
    app = _app()
    source = "{{ url_for('give') }} {{ url_for('static', filename='site.css') }}"
    assert _render(app, source) == "/give /static/site.css"
    assert _render(app, source, SCRIPT_NAME="/charity") == "/charity/give /charity/static/site.css"
    assert _render(app, source) == "/give /static/site.css"


def test_urls_with_values_anchors_or_external_are_built_each_time():
    app = _app()
    assert _render(app, "{{ url_for('gift', id=1) }} {{ url_for('gift', id=2) }}") == (
        "/gift/1 /gift/2"
    )
    assert _render(app, "{{ url_for('give', _anchor='top') }} {{ url_for('give') }}") == (
        "/give#top /give"
    )
    assert _render(app, "{{ url_for('give', _external=True) }}").startswith("http://localhost/")
    assert _render(app, "{{ url_for('static', filename='a.css') }}") == "/static/a.css"
    assert _render(app, "{{ url_for('static', filename='b.css') }}") == "/static/b.css"


def test_url_defaults_are_honoured():
    app = _app()
    app.add_url_rule("/in/<lang>/give", "localized", lambda lang: "")
    app.url_defaults(lambda endpoint, values: values.setdefault("lang", "fr"))
    assert _render(app, "{{ url_for('localized') }}") == "/in/fr/give"
