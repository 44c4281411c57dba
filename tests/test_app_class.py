"""The app's Flask class: templates read the environment's globals directly, and whether a
hook is a coroutine function is asked once; neither changes what a page shows."""

from __future__ import annotations

from flask import Flask

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
