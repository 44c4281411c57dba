"""The app's Flask class: Flask, with two costs per request taken out.

Both are documented extension points (``Flask.jinja_environment``, ``Flask.ensure_sync``)
and change no behaviour:

- Jinja gives every template a ``ChainMap`` of its own globals over the environment's, and
  copies that map into a dict for every render and every ``{% include %}``; a ChainMap is
  copied key by key in Python. No template here has globals of its own, so a template
  loaded without any reads the environment's globals dict itself, which is copied in C
  (the same names and values: the environment's globals, as Jinja documents, are only
  changed while the app is set up).
- Flask asks ``inspect.iscoroutinefunction`` of every hook and view on every request (ten
  times on a page); whether a function is a coroutine function does not change, so the
  answer is kept per function.
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable, MutableMapping

from flask import Flask
from flask.templating import Environment


class KeptGlobalsEnvironment(Environment):
    """Flask's Jinja environment; a template without globals of its own reads the
    environment's globals dict directly instead of a ChainMap over it."""

    def make_globals(self, d: MutableMapping[str, t.Any] | None) -> MutableMapping[str, t.Any]:
        if not d:
            return self.globals
        return super().make_globals(d)


class DonationsFlask(Flask):
    jinja_environment = KeptGlobalsEnvironment

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
