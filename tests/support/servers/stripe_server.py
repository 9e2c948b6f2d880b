#!/usr/bin/python3
"""A local Stripe API (v1, pinned version 2023-08-16) for the Stripe gateway's tests.

Follows /work/shared/specs/stripe-openapi-2023-08-16.yaml for the endpoints the gateway uses
and refuses what Stripe refuses:
  - no or wrong `Authorization: Bearer <key>`            401 invalid_request_error
  - a `Stripe-Version` other than the pinned one         400 invalid_request_error
  - a POST without `Idempotency-Key` (this project's rule: every POST carries one), or a
    body that is not application/x-www-form-urlencoded  400
  - an unknown path or method                            404 invalid_request_error
  - an unknown or missing parameter (names from the spec) 400 parameter_unknown / missing
  - a key reused with other parameters or another path   400 idempotency_error
  - a three-decimal currency amount not a multiple of 10 400 invalid_request_error
The first response to an Idempotency-Key is stored and replayed for the same key (with
`Idempotent-Replayed: true`), as Stripe does. Faults injected through /__control model the
front end failing before the idempotency layer, so they are not stored (as Stripe's 429s).

Test payment methods (Stripe's own ids): pm_card_visa succeeds;
pm_card_chargeDeclined (card_declined/generic_decline),
pm_card_chargeDeclinedInsufficientFunds (card_declined/insufficient_funds),
pm_card_chargeDeclinedExpiredCard (expired_card/expired_card) and
pm_card_authenticationRequired (authentication_required) answer 402 card_error.

Control (no auth): POST /__control/fault {"path": P, "status": S | "timeout": seconds,
"times": N, "retry_after": V, "should_retry": "true"|"false"} makes the next N requests to
path P fail that way (a timeout performs the request and then sleeps, so the answer is lost);
GET /__control/requests lists what arrived: [{method, path, idempotency_key, params}];
GET /__control/count?kind=payment_intent|refund|transfer|payout|customer counts objects.
Prints "LISTENING <port>". Bodies over 1 MiB: 413; a slow client times out after 10 s.
"""
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_KEY = sys.argv[1] if len(sys.argv) > 1 else "sk_test_local"
VERSION = "2023-08-16"
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx",
                "vnd", "vuv", "xaf", "xof", "xpf"}
THREE_DECIMAL = {"bhd", "jod", "kwd", "omr", "tnd"}

# Form parameters per (method, path pattern), from the spec: (allowed, required).
ENDPOINTS = {
    ("POST", r"/v1/customers"): (
        {"address", "balance", "cash_balance", "coupon", "description", "email", "expand",
         "invoice_prefix", "invoice_settings", "metadata", "name", "next_invoice_sequence",
         "payment_method", "phone", "preferred_locales", "promotion_code", "shipping", "source",
         "tax", "tax_exempt", "tax_id_data", "test_clock"}, set()),
    ("POST", r"/v1/customers/(?P<customer>[^/]+)"): (
        {"address", "balance", "bank_account", "card", "cash_balance", "coupon",
         "default_alipay_account", "default_bank_account", "default_card", "default_source",
         "description", "email", "expand", "invoice_prefix", "invoice_settings", "metadata",
         "name", "next_invoice_sequence", "phone", "preferred_locales", "promotion_code",
         "shipping", "source", "tax", "tax_exempt"}, set()),
    ("POST", r"/v1/payment_methods/(?P<payment_method>[^/]+)/attach"): (
        {"customer", "expand"}, {"customer"}),
    ("POST", r"/v1/payment_intents"): (
        {"amount", "application_fee_amount", "automatic_payment_methods", "capture_method",
         "confirm", "confirmation_method", "currency", "customer", "description",
         "error_on_requires_action", "expand", "mandate", "mandate_data", "metadata",
         "off_session", "on_behalf_of", "payment_method", "payment_method_data",
         "payment_method_options", "payment_method_types", "radar_options", "receipt_email",
         "return_url", "setup_future_usage", "shipping", "statement_descriptor",
         "statement_descriptor_suffix", "transfer_data", "transfer_group", "use_stripe_sdk"},
        {"amount", "currency"}),
    ("GET", r"/v1/payment_intents/search"): ({"expand", "limit", "page", "query"}, {"query"}),
    ("GET", r"/v1/payment_intents/(?P<intent>[^/]+)"): ({"client_secret", "expand"}, set()),
    ("POST", r"/v1/refunds"): (
        {"amount", "charge", "currency", "customer", "expand", "instructions_email", "metadata",
         "origin", "payment_intent", "reason", "refund_application_fee", "reverse_transfer"},
        set()),
    ("GET", r"/v1/refunds"): (
        {"charge", "created", "ending_before", "expand", "limit", "payment_intent",
         "starting_after"}, set()),
    ("GET", r"/v1/refunds/(?P<refund>[^/]+)"): ({"expand"}, set()),
    ("POST", r"/v1/transfers"): (
        {"amount", "currency", "description", "destination", "expand", "metadata",
         "source_transaction", "source_type", "transfer_group"}, {"currency", "destination"}),
    ("GET", r"/v1/transfers"): (
        {"created", "destination", "ending_before", "expand", "limit", "starting_after",
         "transfer_group"}, set()),
    ("GET", r"/v1/transfers/(?P<transfer>[^/]+)"): ({"expand"}, set()),
    ("POST", r"/v1/payouts"): (
        {"amount", "currency", "description", "destination", "expand", "metadata", "method",
         "source_type", "statement_descriptor"}, {"amount", "currency"}),
    ("GET", r"/v1/payouts"): (
        {"arrival_date", "created", "destination", "ending_before", "expand", "limit",
         "starting_after", "status"}, set()),
    ("GET", r"/v1/payouts/(?P<payout>[^/]+)"): ({"expand"}, set()),
}

DECLINES = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": ("card_declined", "insufficient_funds"),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "expired_card"),
    "pm_card_authenticationRequired": ("authentication_required", "authentication_required"),
}

lock = threading.Lock()
objects = {"payment_intent": {}, "refund": {}, "transfer": {}, "payout": {}, "customer": {}}
order = {k: [] for k in objects}   # ids in creation order
idempotent = {}                    # key -> (method, path, params, status, body)
faults = []                        # dicts from /__control/fault
received = []
counter = [0]


def new_id(prefix):
    counter[0] += 1
    return "%s_%024d" % (prefix, counter[0])


def error(status, etype, message, **extra):
    body = {"error": dict(type=etype, message=message, **extra)}
    return status, body


def parse_form(text):
    """Stripe's form encoding: a[b]=c nests; returns (flat dict of top names, nested dict)."""
    pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=False)
    nested = {}
    for name, value in pairs:
        m = re.fullmatch(r"([A-Za-z0-9_]+)((?:\[[^\[\]]*\])*)", name)
        if not m:
            raise ValueError("Invalid parameter name: %s" % name)
        keys = [m.group(1)] + re.findall(r"\[([^\[\]]*)\]", m.group(2))
        at = nested
        for k in keys[:-1]:
            at = at.setdefault(k, {})
            if not isinstance(at, dict):
                raise ValueError("Invalid nesting for %s" % name)
        at[keys[-1]] = value
    return nested


def amount_ok(currency, amount):
    if not re.fullmatch(r"[0-9]+", amount or ""):
        return "Invalid integer: %s" % amount
    if int(amount) <= 0:
        return "This value must be greater than or equal to 1."
    if currency in THREE_DECIMAL and int(amount) % 10 != 0:
        return ("Amounts in %s must be a multiple of 10 (the last digit must be 0)"
                % currency.upper())
    return None


def listing(kind, q, match=lambda o: True):
    items = [objects[kind][i] for i in reversed(order[kind]) if match(objects[kind][i])]
    if "starting_after" in q:
        ids = [o["id"] for o in items]
        if q["starting_after"] in ids:
            items = items[ids.index(q["starting_after"]) + 1:]
    limit = int(q.get("limit", "10"))
    if limit < 1 or limit > 100:
        return error(400, "invalid_request_error", "limit must be between 1 and 100",
                     param="limit")
    return 200, {"object": "list", "url": "/v1/" + kind + "s", "data": items[:limit],
                 "has_more": len(items) > limit}


def perform(method, path, groups, p):
    """Runs one API call on the in-memory objects; returns (status, body)."""
    if method == "POST" and path == "/v1/customers":
        cid = new_id("cus")
        objects["customer"][cid] = {"id": cid, "object": "customer", "name": p.get("name"),
                                    "email": p.get("email"), "metadata": p.get("metadata", {})}
        order["customer"].append(cid)
        return 200, objects["customer"][cid]
    if method == "POST" and "customer" in groups:
        c = objects["customer"].get(groups["customer"])
        if c is None:
            return error(404, "invalid_request_error", "No such customer: '%s'" %
                         groups["customer"], code="resource_missing", param="customer")
        for k in ("name", "email"):
            if k in p:
                c[k] = p[k]
        c["metadata"].update(p.get("metadata", {}))
        if "invoice_settings" in p:
            c["invoice_settings"] = p["invoice_settings"]
        return 200, c
    if path.endswith("/attach"):
        pm = groups["payment_method"]
        if p["customer"] not in objects["customer"]:
            return error(404, "invalid_request_error", "No such customer: '%s'" % p["customer"],
                         code="resource_missing", param="customer")
        brand, last4 = ("visa", "4242") if pm == "pm_card_visa" else ("visa", "0002")
        return 200, {"id": pm, "object": "payment_method", "customer": p["customer"],
                     "card": {"brand": brand, "last4": last4, "exp_month": 12,
                              "exp_year": 2034}}
    if method == "POST" and path == "/v1/payment_intents":
        currency = p["currency"]
        why = amount_ok(currency, p["amount"])
        if why:
            return error(400, "invalid_request_error", why, param="amount")
        if p.get("confirm") == "true" and "payment_method" not in p:
            return error(400, "invalid_request_error",
                         "You must provide a payment_method to confirm", param="payment_method")
        pid = new_id("pi")
        intent = {"id": pid, "object": "payment_intent", "amount": int(p["amount"]),
                  "currency": currency, "customer": p.get("customer"),
                  "payment_method": p.get("payment_method"),
                  "description": p.get("description"), "metadata": p.get("metadata", {}),
                  "status": "requires_confirmation", "last_payment_error": None,
                  "amount_received": 0}
        objects["payment_intent"][pid] = intent
        order["payment_intent"].append(pid)
        if p.get("confirm") != "true":
            return 200, intent
        decline = DECLINES.get(p["payment_method"])
        if decline:
            code, decline_code = decline
            err = {"type": "card_error", "code": code, "decline_code": decline_code,
                   "message": "Your card was declined.", "payment_intent": None}
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {k: err[k] for k in ("type", "code", "decline_code",
                                                                "message")}
            err["payment_intent"] = intent
            return 402, {"error": err}
        intent["status"] = "succeeded"
        intent["amount_received"] = intent["amount"]
        intent["latest_charge"] = new_id("ch")
        return 200, intent
    if method == "GET" and path == "/v1/payment_intents/search":
        m = re.fullmatch(r"metadata\['([A-Za-z0-9_]+)'\]:'((?:[^'\\]|\\.)*)'", p["query"])
        if not m:
            return error(400, "invalid_request_error", "Unsupported search query",
                         param="query")
        key, value = m.group(1), re.sub(r"\\(.)", r"\1", m.group(2))
        data = [objects["payment_intent"][i] for i in reversed(order["payment_intent"])
                if objects["payment_intent"][i]["metadata"].get(key) == value]
        return 200, {"object": "search_result", "url": "/v1/payment_intents/search",
                     "data": data, "has_more": False, "next_page": None}
    for kind, group in (("payment_intent", "intent"), ("refund", "refund"),
                        ("transfer", "transfer"), ("payout", "payout")):
        if method == "GET" and group in groups:
            obj = objects[kind].get(groups[group])
            if obj is None:
                return error(404, "invalid_request_error", "No such %s: '%s'" %
                             (kind, groups[group]), code="resource_missing", param="id")
            return 200, obj
    if method == "POST" and path == "/v1/refunds":
        pid = p.get("payment_intent")
        if not pid and not p.get("charge"):
            return error(400, "invalid_request_error",
                         "One of the following params should be provided for this request: "
                         "payment_intent or charge.")
        intent = objects["payment_intent"].get(pid)
        if intent is None or intent["status"] != "succeeded":
            return error(400, "invalid_request_error", "This PaymentIntent has no successful "
                         "charge to refund", code="charge_not_refundable")
        refunded = sum(r["amount"] for r in objects["refund"].values()
                       if r["payment_intent"] == pid)
        left = intent["amount"] - refunded
        amount = int(p.get("amount", left))
        if amount <= 0 or amount > left:
            return error(400, "invalid_request_error", "Refund amount (%d) is greater than "
                         "unrefunded amount on charge (%d)" % (amount, left), param="amount",
                         code="amount_too_large")
        rid = new_id("re")
        objects["refund"][rid] = {"id": rid, "object": "refund", "amount": amount,
                                  "currency": intent["currency"], "payment_intent": pid,
                                  "status": "succeeded", "metadata": p.get("metadata", {})}
        order["refund"].append(rid)
        return 200, objects["refund"][rid]
    if method == "POST" and path in ("/v1/transfers", "/v1/payouts"):
        kind = "transfer" if path == "/v1/transfers" else "payout"
        if "amount" not in p:
            return error(400, "invalid_request_error", "Missing required param: amount.",
                         param="amount", code="parameter_missing")
        why = amount_ok(p["currency"], p["amount"])
        if why:
            return error(400, "invalid_request_error", why, param="amount")
        if kind == "transfer" and not p["destination"].startswith("acct_"):
            return error(400, "invalid_request_error", "No such destination: '%s'" %
                         p["destination"], param="destination")
        oid = new_id("tr" if kind == "transfer" else "po")
        obj = {"id": oid, "object": kind, "amount": int(p["amount"]), "currency": p["currency"],
               "destination": p.get("destination"), "description": p.get("description"),
               "metadata": p.get("metadata", {})}
        if kind == "payout":
            obj["status"] = "pending"
        objects[kind][oid] = obj
        order[kind].append(oid)
        return 200, obj
    if method == "GET" and path in ("/v1/refunds", "/v1/transfers", "/v1/payouts"):
        kind = path[4:-1]
        return listing(kind, p, lambda o: all(
            o.get(f) == p[f] for f in ("payment_intent", "destination") if f in p))
    return error(404, "invalid_request_error", "Unrecognized request URL (%s: %s)" %
                 (method, path))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", "req_%d" % counter[0])
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 1024 * 1024:
            self.close_connection = True
            return None
        return self.rfile.read(n).decode("utf-8", "replace")

    def control(self, url, body):
        if self.command == "POST" and url.path == "/__control/fault":
            with lock:
                faults.append(json.loads(body))
            return self.reply(200, {"ok": True})
        if self.command == "GET" and url.path == "/__control/requests":
            with lock:
                return self.reply(200, list(received))
        if self.command == "GET" and url.path == "/__control/count":
            kind = urllib.parse.parse_qs(url.query).get("kind", [""])[0]
            with lock:
                return self.reply(200, {"count": len(order.get(kind, []))})
        return self.reply(404, {"error": "no such control"})

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        body = self.read_body()
        if body is None:
            return self.reply(413, {"error": {"type": "invalid_request_error",
                                              "message": "Request body too large"}})
        if url.path.startswith("/__control/"):
            return self.control(url, body)
        status, out, headers = self.api(url, body)
        return self.reply(status, out, headers)

    def api(self, url, body):
        auth = self.headers.get("Authorization", "")
        if auth != "Bearer " + API_KEY:
            return (*error(401, "invalid_request_error", "Invalid API Key provided"), {})
        if self.headers.get("Stripe-Version") != VERSION:
            return (*error(400, "invalid_request_error", "Stripe-Version must be " + VERSION +
                           " for this account"), {})
        method, path = self.command, url.path
        spec = None
        for (m, pattern), allowed in ENDPOINTS.items():
            g = re.fullmatch(pattern, path)
            if m == method and g and not (pattern.endswith("[^/]+)") and
                                          path.endswith("/search")):
                spec, groups = allowed, g.groupdict()
                break
        if spec is None:
            return (*error(404, "invalid_request_error", "Unrecognized request URL (%s: %s)" %
                           (method, path)), {})
        try:
            if method == "POST":
                ctype = self.headers.get("Content-Type", "")
                if body and not ctype.startswith("application/x-www-form-urlencoded"):
                    return (*error(400, "invalid_request_error",
                                   "Content-Type must be application/x-www-form-urlencoded"), {})
                params = parse_form(body)
            else:
                params = parse_form(url.query)
        except ValueError as e:
            return (*error(400, "invalid_request_error", str(e)), {})
        key = self.headers.get("Idempotency-Key")
        with lock:
            received.append({"method": method, "path": path, "idempotency_key": key,
                             "params": params})
        allowed, required = spec
        for name in params:
            if name not in allowed:
                return (*error(400, "invalid_request_error", "Received unknown parameter: " +
                               name, code="parameter_unknown", param=name), {})
        for name in required:
            if name not in params:
                return (*error(400, "invalid_request_error", "Missing required param: %s." %
                               name, code="parameter_missing", param=name), {})
        if method == "POST":
            if not key:
                return (*error(400, "invalid_request_error",
                               "This test server requires an Idempotency-Key on every POST"), {})
            if len(key) > 255:
                return (*error(400, "invalid_request_error",
                               "Idempotency-Key longer than 255 characters"), {})
        fault = None
        with lock:
            for f in faults:
                if f["path"] == path and f.get("times", 1) > 0:
                    f["times"] = f.get("times", 1) - 1
                    fault = dict(f)
                    break
        if fault and "status" in fault:
            headers = {}
            if "retry_after" in fault:
                headers["Retry-After"] = str(fault["retry_after"])
            if "should_retry" in fault:
                headers["Stripe-Should-Retry"] = fault["should_retry"]
            etype = "rate_limit_error" if fault["status"] == 429 else "api_error"
            return (*error(fault["status"], etype, "Injected failure"), headers)
        with lock:
            if method == "POST" and key in idempotent:
                m, p, prm, status, out = idempotent[key]
                if (m, p, prm) != (method, path, params):
                    return (*error(400, "idempotency_error", "Keys for idempotent requests can "
                                   "only be used with the same parameters they were first used "
                                   "with. Try using a key other than '%s' if you meant to "
                                   "execute a different request." % key), {})
                result = (status, out, {"Idempotent-Replayed": "true", "Idempotency-Key": key})
            else:
                status, out = perform(method, path, groups, params)
                if method == "POST":
                    idempotent[key] = (method, path, params, status, out)
                result = (status, out, {"Idempotency-Key": key} if key else {})
        if fault and "timeout" in fault:
            time.sleep(float(fault["timeout"]))
        return result

    do_GET = handle_any
    do_POST = handle_any
    do_DELETE = handle_any
    do_PUT = handle_any


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("LISTENING %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
