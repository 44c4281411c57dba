"""A local Stripe API over HTTP, for tests: LocalStripe behind Stripe's wire format.

``StripeServer`` answers the endpoints the app uses the way api.stripe.com
does (form-encoded requests with bracket notation, JSON answers, Stripe's
error bodies, Idempotency-Key replay), records every request, and can be
told to fail or stall the next requests.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fakes.stripe import (
    DEFAULT_API_VERSION,
    LocalStripe,
    LocalStripeError,
    MemoryStore,
    new_id,
)

Json = dict[str, Any]

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")

# GET /v1/<path>/<id> -> object type
_RETRIEVABLE = {
    "checkout/sessions": "checkout.session",
    "payment_intents": "payment_intent",
    "charges": "charge",
    "invoices": "invoice",
    "subscriptions": "subscription",
    "disputes": "dispute",
    "customers": "customer",
    "refunds": "refund",
    "balance_transactions": "balance_transaction",
    "events": "event",
    "billing_portal/sessions": "billing_portal.session",
}
_RETRIEVE = re.compile(r"^/v1/(?P<kind>" + "|".join(_RETRIEVABLE) + r")/(?P<id>[^/]+)$")

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    402: "card_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    409: "idempotency_error",
    429: "invalid_request_error",
}


def parse_form(text: str) -> Json:
    """Parse a query string or form body in Stripe's bracket notation into nested data.

    ``metadata[gift_id]=5`` -> {"metadata": {"gift_id": "5"}};
    ``line_items[0][quantity]=1`` -> {"line_items": [{"quantity": "1"}]};
    ``expand[]=a&expand[]=b`` (or ``expand[0]=a``) -> {"expand": ["a", "b"]}.
    Values stay strings, as Stripe receives them.
    """
    root: Json = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.match(key)
        parts = [match.group(1), *_PART.findall(match.group(2))] if match else [key]
        node = root
        for index, part in enumerate(parts):
            if part == "":  # "[]": append
                part = str(len(node))
            if index == len(parts) - 1:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
    return _listify(root)


def _listify(node: Any, key: str = "") -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v, k) for k, v in node.items()}
    if key != "metadata" and converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


@dataclass
class RecordedRequest:
    """One request as the server saw it, and what it answered."""

    method: str
    path: str
    params: Json
    headers: dict[str, str]
    body: str
    status: int | None = None
    response: Json | None = None
    replayed: bool = False

    def header(self, name: str) -> str | None:
        """Return a request header, whatever its case."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    @property
    def idempotency_key(self) -> str | None:
        return self.header("Idempotency-Key")

    @property
    def stripe_version(self) -> str | None:
        return self.header("Stripe-Version")

    def __getitem__(self, name: str) -> Any:
        """Read fields as keys too: ``request["params"]``, ``request["idempotency_key"]``."""
        if name.startswith("_") or not hasattr(self, name):
            raise KeyError(name)
        return getattr(self, name)


@dataclass
class _Saved:
    method: str
    path: str
    params: Json
    status: int
    body: Json


@dataclass
class _Reply:
    status: int
    body: Json
    headers: dict[str, str] = field(default_factory=dict)


def _error(
    status: int, message: str, *, code: str | None = None, error_type: str | None = None
) -> _Reply:
    error: Json = {"type": error_type or _ERROR_TYPES.get(status, "api_error"), "message": message}
    if code:
        error["code"] = code
    return _Reply(status, {"error": error})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "local-stripe/1"
    timeout = 30  # idle keep-alive connections end on their own
    disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms stalls

    def do_GET(self) -> None:
        self.server.owner._handle(self)  # type: ignore[attr-defined]

    do_POST = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


class StripeServer:
    """A threaded HTTP server on 127.0.0.1 answering like Stripe's API, over a LocalStripe."""

    def __init__(self, *, api_version: str = DEFAULT_API_VERSION, **options: Any) -> None:
        self.store = MemoryStore()
        self.local = LocalStripe(self.store, api_version=api_version, **options)
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._saved: dict[str, _Saved] = {}
        self._in_flight: set[str] = set()
        self._failures: deque[int] = deque()
        self._delays: deque[float] = deque()
        self._generation = 0
        self._cancel = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle ----------------------------------------------------------

    def start(self) -> StripeServer:
        if self._httpd is None:
            httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            httpd.owner = self  # type: ignore[attr-defined]
            self._httpd = httpd
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="stripe-server",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._cancel.set()
            self._httpd.shutdown()
            self._httpd.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._httpd = self._thread = None

    def __enter__(self) -> StripeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the Stripe server is not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def reset(self) -> None:
        """Forget every object, request, idempotency key and pending failure or delay."""
        with self._lock:
            self._generation += 1
            self._cancel.set()  # wake delayed requests: they end without answering
            self._cancel = threading.Event()
            self.store.clear()
            self._requests.clear()
            self._saved.clear()
            self._in_flight.clear()
            self._failures.clear()
            self._delays.clear()

    # --- what tests look at and control -----------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, method: str, path: str | None = None) -> list[RecordedRequest]:
        """The requests with this method and path (a prefix ending in "/" matches below it)."""
        return [
            r
            for r in self.requests
            if r.method == method
            and (path is None or r.path == path or (path.endswith("/") and r.path.startswith(path)))
        ]

    def local_sessions(self) -> list[Json]:
        """Every Checkout Session created so far, as stored (oldest first)."""
        return self.store.objects("checkout.session")

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Answer the next ``n`` requests with an error of ``status`` (api_error for 5xx)."""
        with self._lock:
            self._failures.extend([status] * n)

    def delay_next(self, n: int, seconds: float) -> None:
        """Hold the next ``n`` requests for ``seconds`` before handling them."""
        with self._lock:
            self._delays.extend([seconds] * n)

    # --- serving ----------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode("utf-8", "replace") if length else ""
        params = parse_form(split.query)
        if body:
            params.update(parse_form(body))
        record = RecordedRequest(
            method=handler.command,
            path=split.path,
            params=params,
            headers=dict(handler.headers.items()),
            body=body,
        )
        with self._lock:
            self._requests.append(record)
            generation, cancel = self._generation, self._cancel
            delay = self._delays.popleft() if self._delays else None
            failure = self._failures.popleft() if self._failures else None
        if delay is not None and cancel.wait(delay):
            handler.close_connection = True
            return
        with self._lock:
            if generation != self._generation:
                handler.close_connection = True
                return
        reply = self._reply(record, failure, generation)
        record.status, record.response = reply.status, reply.body
        record.replayed = reply.headers.get("Idempotent-Replayed") == "true"
        self._send(handler, reply, record)

    def _send(
        self, handler: BaseHTTPRequestHandler, reply: _Reply, record: RecordedRequest
    ) -> None:
        data = json.dumps(reply.body, indent=2).encode()
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.send_header("Request-Id", new_id("req_", 7))
            handler.send_header("Stripe-Version", record.stripe_version or self.local.api_version)
            if record.method == "POST" and record.idempotency_key:
                handler.send_header("Idempotency-Key", record.idempotency_key)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            handler.close_connection = True

    def _reply(self, record: RecordedRequest, failure: int | None, generation: int) -> _Reply:
        auth = record.headers.get("Authorization", "")
        if not auth.startswith(("Bearer sk_", "Bearer rk_")):
            return _error(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
            )
        version = record.stripe_version
        if version is not None and not _VERSION.match(version):
            return _error(400, f"Invalid Stripe API version: {version}")
        if failure is not None:
            reply = _error(
                failure,
                "An unknown error occurred (injected by the test)."
                if failure >= 500
                else f"Injected failure ({failure}).",
                code="rate_limit" if failure == 429 else None,
            )
            return reply
        route = self._route(record.method, record.path)
        if route is None:
            return _error(
                404,
                f"Unrecognized request URL ({record.method}: {record.path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            )
        key = record.idempotency_key if record.method == "POST" else None
        if key is None:
            return self._call(route, record)
        with self._lock:
            saved = self._saved.get(key)
            if saved is not None:
                if (saved.method, saved.path, saved.params) != (
                    record.method,
                    record.path,
                    record.params,
                ):
                    return _error(
                        400,
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with. Try using a key other than "
                        f"'{key}' if you meant to execute a different request.",
                        error_type="idempotency_error",
                    )
                return _Reply(
                    saved.status, copy.deepcopy(saved.body), {"Idempotent-Replayed": "true"}
                )
            if key in self._in_flight:
                return _error(
                    409,
                    "There is currently another in-progress request using this Idempotent "
                    "Key (that probably means you submitted twice, and the other request is "
                    "still going through): " + key + ". Please try again later.",
                    error_type="idempotency_error",
                )
            self._in_flight.add(key)
        try:
            reply = self._call(route, record)
        finally:
            with self._lock:
                self._in_flight.discard(key)
                validation = (reply.body.get("error") or {}).get("code", "") or ""
                if generation == self._generation and not validation.startswith("parameter_"):
                    self._saved[key] = _Saved(
                        record.method,
                        record.path,
                        copy.deepcopy(record.params),
                        reply.status,
                        copy.deepcopy(reply.body),
                    )
        return reply

    def _route(self, method: str, path: str) -> Callable[[RecordedRequest], Json] | None:
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_checkout_session
        if method == "POST" and path == "/v1/billing_portal/sessions":
            return self._create_portal_session
        match = _RETRIEVE.match(path)
        if method == "GET" and match:
            object_type = _RETRIEVABLE[match["kind"]]
            object_id = match["id"]
            return lambda record: self.local.retrieve(
                object_type, object_id, _expand(record.params)
            )
        return None

    def _call(self, route: Callable[[RecordedRequest], Json], record: RecordedRequest) -> _Reply:
        try:
            return _Reply(200, route(record))
        except LocalStripeError as exc:
            return _Reply(exc.http_status, exc.to_json())
        except Exception as exc:  # a bug in LocalStripe: answer like Stripe's api_error
            traceback.print_exc(file=sys.stderr)
            return _error(500, f"LocalStripe crashed: {exc!r}")

    def _create_checkout_session(self, record: RecordedRequest) -> Json:
        session = self.local.create_checkout_session(record.params)
        expand = _expand(record.params)
        return self.local.retrieve(session["object"], session["id"], expand) if expand else session

    def _create_portal_session(self, record: RecordedRequest) -> Json:
        session = self.local.create_portal_session_from_params(record.params)
        expand = _expand(record.params)
        return self.local.retrieve(session["object"], session["id"], expand) if expand else session


def _expand(params: Json) -> list[str]:
    value = params.get("expand")
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [str(v) for v in value.values()]
    return [str(v) for v in value]
