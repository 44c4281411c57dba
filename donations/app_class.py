"""The app's Flask class: Flask, with two costs per request and one at start-up taken out.

Each is an extension point (``Flask.jinja_environment``, ``Flask.ensure_sync``,
``Flask.url_rule_class``) and changes no behaviour:

- Jinja gives every template a ``ChainMap`` of its own globals over the environment's, and
  copies that map into a dict for every render and every ``{% include %}``; a ChainMap is
  copied key by key in Python. No template here has globals of its own, so a template
  loaded without any reads the environment's globals dict itself, which is copied in C
  (the same names and values: the environment's globals, as Jinja documents, are only
  changed while the app is set up).
- Flask asks ``inspect.iscoroutinefunction`` of every hook and view on every request (ten
  times on a page); whether a function is a coroutine function does not change, so the
  answer is kept per function.
- Werkzeug writes and compiles two URL builders (Python source, through ``ast``) for every
  rule as it is added: 400 for the app's 200 rules, about 40 ms of every start, though a
  process builds URLs for a few dozen endpoints. A rule writes them the first time it
  builds a URL instead (``LazyBuilderRule``), then keeps them as Werkzeug does.
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable, MutableMapping

from flask import Flask
from flask.templating import Environment
from werkzeug.routing import Rule


class KeptGlobalsEnvironment(Environment):
    """Flask's Jinja environment; a template without globals of its own reads the
    environment's globals dict directly instead of a ChainMap over it."""

    def make_globals(self, d: MutableMapping[str, t.Any] | None) -> MutableMapping[str, t.Any]:
        if not d:
            return self.globals
        return super().make_globals(d)


class LazyBuilderRule(Rule):
    """A URL rule that compiles its URL builders when it first builds a URL, not when it is
    added to the map. (Werkzeug binds what ``_compile_builder`` returns as the rule's
    ``_build`` and ``_build_unknown``; the first call replaces itself with the real one.)"""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        name = "_build_unknown" if append_unknown else "_build"

        def build_first(rule: Rule, **values: t.Any) -> tuple[str, str]:
            builder = Rule._compile_builder(rule, append_unknown).__get__(rule, None)
            setattr(rule, name, builder)
            return builder(**values)

        return build_first


class DonationsFlask(Flask):
    jinja_environment = KeptGlobalsEnvironment
    url_rule_class = LazyBuilderRule

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._synced: dict[Callable[..., t.Any], Callable[..., t.Any]] = {}

    def ensure_sync(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]:
        try:
            return self._synced[func]
        except KeyError:
            synced = super().ensure_sync(func)
        except TypeError:  # an unhashable callable: ask every time, as Flask does
            return super().ensure_sync(func)
        if len(self._synced) < 1024:  # hooks and views: a few hundred at most
            self._synced[func] = synced
        return synced
