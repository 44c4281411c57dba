"""The app's Flask class: templates read the environment's globals directly, and whether a
hook is a coroutine function is asked once; neither changes what a page shows."""

from __future__ import annotations

from flask import Flask, url_for

from donations.app_class import DonationsFlask


def test_templates_see_the_environments_globals_and_their_own_stay_their_own():
    app = DonationsFlask(__name__)
    env = app.jinja_env
    env.globals["greeting"] = "hello"
    plain = env.from_string("{{ greeting }} {{ name }}")
    assert plain.render(name="you") == "hello you"
    env.globals["greeting"] = "welcome"  # while setting up: seen by a loaded template too
    assert plain.render(name="you") == "welcome you"
    own = env.from_string("{{ greeting }}", globals={"greeting": "its own"})
    assert own.render() == "its own"
    assert env.globals["greeting"] == "welcome"  # a template's globals never leak out
    assert plain.render(greeting="a variable wins", name="") == "a variable wins "


def test_a_hook_is_asked_once_whether_it_is_a_coroutine_function(monkeypatch):
    app = DonationsFlask(__name__)
    asked = []
    stock = Flask.ensure_sync

    def counting(self, func):
        asked.append(func)
        return stock(self, func)

    def hook():
        return None

    monkeypatch.setattr(Flask, "ensure_sync", counting)
    assert app.ensure_sync(hook) is hook
    assert app.ensure_sync(hook) is hook
    assert asked == [hook]


def test_pages_render_through_the_app_class(client):
    response = client.get("/give")
    assert response.status_code == 200
    assert b'class="site-header"' in response.data and b"Staff sign in" in response.data


def test_a_rule_writes_its_url_builders_when_it_first_builds_and_builds_as_werkzeug_does():
    lazy, stock = DonationsFlask(__name__), Flask(__name__)
    for app in (lazy, stock):
        app.add_url_rule("/items/<int:item_id>", "item", lambda item_id: "")
        app.add_url_rule("/search", "search", lambda: "")
    rule = lazy.url_map._rules_by_endpoint["item"][0]
    assert rule._build_unknown.__name__ == "build_first"  # nothing written yet

    def built(app: Flask, endpoint: str, **values: object) -> str:
        with app.test_request_context():
            return url_for(endpoint, **values)

    for values in ({"item_id": 7}, {"item_id": 7, "page": 2, "q": "a b"}):
        assert built(lazy, "item", **values) == built(stock, "item", **values)
    assert built(lazy, "search", q="soap", _external=True) == "http://localhost/search?q=soap"
    written = rule._build_unknown
    assert written.__name__ != "build_first"  # the compiled builder took its place...
    assert built(lazy, "item", item_id=8, page=3) == "/items/8?page=3"
    assert rule._build_unknown is written  # ...and is kept
