#!/usr/bin/python3
"""A local PayPal REST API for the PayPal gateway's tests.

Usage: paypal_server.py CLIENT_ID CLIENT_SECRET. Follows ../shared/specs (Orders v2, Payouts
v1) for the calls the gateway makes, plus OAuth2 client credentials and Payments v2 refunds,
and refuses what PayPal refuses:
  - /v1/oauth2/token without the right HTTP Basic credentials or grant_type  401 / 400
  - any other call without a valid Bearer token (tokens can be revoked)       401 invalid_token
  - a POST without PayPal-Request-Id (this project's rule) or not JSON         400
  - an unknown path                                                            404
  - unknown or missing fields of an order or payout (names from the spec)     400 INVALID_REQUEST
  - an amount value with other decimals than the currency has at PayPal
    (JPY, HUF, TWD: none; others: two), an unsupported currency               422
  - a sender_batch_id used before (with another PayPal-Request-Id)            400
A repeated PayPal-Request-Id gets the first response again, as PayPal does.
Vault ids decide outcomes: "*declined*" → capture 422 INSTRUMENT_DECLINED; "*payer-action*"
→ order PAYER_ACTION_REQUIRED; a card vault id "*instant*" completes at creation; anything
else is APPROVED at creation and COMPLETED at capture. A payout batch is PENDING until it is
first read, then SUCCESS.
Control (no auth): POST /__control/fault {"path", "status" | "timeout", "times"};
POST /__control/revoke (every token becomes invalid); GET /__control/requests;
GET /__control/count?kind=order|capture|refund|payout|token.
Prints "LISTENING <port>". Bodies over 1 MiB: 413; a slow client times out after 10 s.
"""
import base64
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENT_ID, CLIENT_SECRET = sys.argv[1], sys.argv[2]
SUPPORTED = {"AUD", "BRL", "CAD", "CNY", "CZK", "DKK", "EUR", "HKD", "HUF", "ILS", "JPY", "MYR",
             "MXN", "TWD", "NZD", "NOK", "PHP", "PLN", "GBP", "SGD", "SEK", "CHF", "THB", "USD"}
NO_DECIMALS = {"JPY", "HUF", "TWD"}
ORDER_FIELDS = {"intent", "payer", "purchase_units", "payment_source", "application_context"}
UNIT_FIELDS = {"reference_id", "amount", "payee", "payment_instruction", "description",
               "custom_id", "invoice_id", "soft_descriptor", "items", "shipping",
               "supplementary_data"}
SOURCES = {"card", "token", "paypal", "bancontact", "blik", "eps", "giropay", "ideal", "mybank",
           "p24", "sofort", "trustly", "apple_pay", "google_pay", "venmo"}
BATCH_HEADER_FIELDS = {"sender_batch_id", "recipient_type", "email_subject", "email_message",
                       "note"}
ITEM_FIELDS = {"recipient_type", "amount", "note", "receiver", "sender_item_id",
               "recipient_wallet", "alternate_notification_method", "notification_language",
               "application_context", "purpose"}

lock = threading.Lock()
tokens = set()
objects = {"order": {}, "capture": {}, "refund": {}, "payout": {}}
counts = {"order": 0, "capture": 0, "refund": 0, "payout": 0, "token": 0}
replies = {}       # PayPal-Request-Id -> (path, status, body)
batch_ids = set()  # sender_batch_ids used
faults = []
received = []
serial = [0]


def new_id(prefix):
    serial[0] += 1
    return "%s%017d" % (prefix, serial[0])


def err(status, name, message, issue=None, field=None):
    body = {"name": name, "message": message, "debug_id": "dbg%d" % serial[0]}
    if issue:
        body["details"] = [{"issue": issue, "field": field or "", "description": message}]
    return status, body


def money_error(amount, currency_key):
    if not isinstance(amount, dict) or set(amount) - {currency_key, "value", "breakdown"}:
        return err(400, "INVALID_REQUEST", "amount is malformed", "INVALID_PARAMETER_SYNTAX")
    code, value = amount.get(currency_key), amount.get("value")
    if not isinstance(code, str) or not isinstance(value, str):
        return err(400, "INVALID_REQUEST", "amount needs %s and value" % currency_key,
                   "MISSING_REQUIRED_PARAMETER")
    if code not in SUPPORTED:
        return err(422, "UNPROCESSABLE_ENTITY", "Currency code is not supported",
                   "CURRENCY_NOT_SUPPORTED")
    decimals = 0 if code in NO_DECIMALS else 2
    pattern = r"[0-9]{1,10}" + (r"\.[0-9]{%d}" % decimals if decimals else "")
    if not re.fullmatch(pattern, value):
        return err(422, "UNPROCESSABLE_ENTITY", "%s amounts take %d decimals" % (code, decimals),
                   "DECIMAL_PRECISION")
    return None


def cents(value):
    whole, _, frac = value.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def create_order(body):
    extra = set(body) - ORDER_FIELDS
    if extra:
        return err(400, "INVALID_REQUEST", "Unknown field", "UNKNOWN_FIELD", "/" + extra.pop())
    if body.get("intent") not in ("CAPTURE", "AUTHORIZE"):
        return err(400, "INVALID_REQUEST", "intent is required", "MISSING_REQUIRED_PARAMETER",
                   "/intent")
    units = body.get("purchase_units")
    if not isinstance(units, list) or not units:
        return err(400, "INVALID_REQUEST", "purchase_units is required",
                   "MISSING_REQUIRED_PARAMETER", "/purchase_units")
    for unit in units:
        extra = set(unit) - UNIT_FIELDS
        if extra:
            return err(400, "INVALID_REQUEST", "Unknown field", "UNKNOWN_FIELD",
                       "/purchase_units/0/" + extra.pop())
        bad = money_error(unit.get("amount"), "currency_code")
        if bad:
            return bad
    source = body.get("payment_source", {})
    if set(source) - SOURCES or len(source) != 1:
        return err(400, "INVALID_REQUEST", "payment_source is malformed", "INVALID_PARAMETER_SYNTAX")
    kind, spec = next(iter(source.items()))
    vault_id = spec.get("vault_id", "")
    if not re.fullmatch(r"[0-9a-zA-Z_-]{1,255}", vault_id):
        return err(400, "INVALID_REQUEST", "vault_id is malformed", "INVALID_PARAMETER_SYNTAX",
                   "/payment_source/%s/vault_id" % kind)
    oid = new_id("ORD")
    order = {"id": oid, "intent": body["intent"], "status": "APPROVED",
             "payment_source": source, "vault_id": vault_id,
             "purchase_units": [{"reference_id": u.get("reference_id", "default"),
                                 "amount": u["amount"], "custom_id": u.get("custom_id"),
                                 "payments": {"captures": [], "refunds": []}} for u in units]}
    objects["order"][oid] = order
    counts["order"] += 1
    if "payer-action" in vault_id:
        order["status"] = "PAYER_ACTION_REQUIRED"
    elif kind == "card" and "instant" in vault_id:
        capture(order)
    return 201, order


def capture(order):
    unit = order["purchase_units"][0]
    cid = new_id("CAP")
    cap = {"id": cid, "status": "COMPLETED", "amount": unit["amount"], "final_capture": True,
           "order_id": order["id"]}
    objects["capture"][cid] = cap
    counts["capture"] += 1
    unit["payments"]["captures"].append(cap)
    order["status"] = "COMPLETED"
    return cap


def perform(method, path, body):
    m = re.fullmatch(r"/v2/checkout/orders/([^/]+)(/capture)?", path)
    if method == "POST" and path == "/v2/checkout/orders":
        return create_order(body)
    if m and method == "POST" and m.group(2):
        order = objects["order"].get(m.group(1))
        if order is None:
            return err(404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.",
                       "INVALID_RESOURCE_ID")
        if set(body) - {"payment_source"}:
            return err(400, "INVALID_REQUEST", "Unknown field", "UNKNOWN_FIELD")
        if order["status"] == "COMPLETED":
            return err(422, "UNPROCESSABLE_ENTITY", "Order already captured", "ORDER_ALREADY_CAPTURED")
        if order["status"] != "APPROVED":
            return err(422, "UNPROCESSABLE_ENTITY", "Order is not approved", "ORDER_NOT_APPROVED")
        if "declined" in order["vault_id"]:
            return err(422, "UNPROCESSABLE_ENTITY", "The instrument presented was declined",
                       "INSTRUMENT_DECLINED")
        capture(order)
        return 201, order
    if m and method == "GET" and not m.group(2):
        order = objects["order"].get(m.group(1))
        if order is None:
            return err(404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.",
                       "INVALID_RESOURCE_ID")
        return 200, order
    m = re.fullmatch(r"/v2/payments/captures/([^/]+)/refund", path)
    if m and method == "POST":
        cap = objects["capture"].get(m.group(1))
        if cap is None:
            return err(404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.",
                       "INVALID_RESOURCE_ID")
        if set(body) - {"amount", "custom_id", "invoice_id", "note_to_payer",
                        "payment_instruction"}:
            return err(400, "INVALID_REQUEST", "Unknown field", "UNKNOWN_FIELD")
        order = objects["order"][cap["order_id"]]
        refunds = order["purchase_units"][0]["payments"]["refunds"]
        left = cents(cap["amount"]["value"]) - sum(cents(r["amount"]["value"]) for r in refunds)
        amount = body.get("amount", dict(cap["amount"], value=None))
        if "amount" in body:
            bad = money_error(amount, "currency_code")
            if bad:
                return bad
            want = cents(amount["value"])
        else:
            want = left
            digits = 0 if cap["amount"]["currency_code"] in NO_DECIMALS else 2
            amount = {"currency_code": cap["amount"]["currency_code"],
                      "value": str(want // 100) if digits == 0 else "%d.%02d" % divmod(want, 100)}
        if want <= 0 or want > left:
            return err(422, "UNPROCESSABLE_ENTITY", "The refund amount must be less than or "
                       "equal to the capture amount that has not yet been refunded.",
                       "REFUND_AMOUNT_EXCEEDED")
        rid = new_id("REF")
        refund = {"id": rid, "status": "COMPLETED", "amount": amount,
                  "custom_id": body.get("custom_id")}
        objects["refund"][rid] = refund
        counts["refund"] += 1
        refunds.append(refund)
        return 201, refund
    m = re.fullmatch(r"/v2/payments/refunds/([^/]+)", path)
    if m and method == "GET":
        refund = objects["refund"].get(m.group(1))
        if refund is None:
            return err(404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.",
                       "INVALID_RESOURCE_ID")
        return 200, refund
    if method == "POST" and path == "/v1/payments/payouts":
        header, items = body.get("sender_batch_header"), body.get("items")
        if set(body) - {"sender_batch_header", "items"} or not isinstance(header, dict) \
                or not isinstance(items, list) or not items:
            return err(400, "VALIDATION_ERROR", "Invalid request - see details",
                       "MISSING_REQUIRED_PARAMETER")
        if set(header) - BATCH_HEADER_FIELDS:
            return err(400, "VALIDATION_ERROR", "Unknown field", "UNKNOWN_FIELD")
        for item in items:
            if set(item) - ITEM_FIELDS or "receiver" not in item or "amount" not in item:
                return err(400, "VALIDATION_ERROR", "Invalid item", "MISSING_REQUIRED_PARAMETER")
            bad = money_error(item["amount"], "currency")
            if bad:
                return bad
        sbid = header.get("sender_batch_id")
        if sbid in batch_ids:
            return err(400, "USER_BUSINESS_ERROR", "Batch with given sender_batch_id already "
                       "exists", "DUPLICATE_SENDER_BATCH_ID")
        batch_ids.add(sbid)
        pid = new_id("PB")
        total = items[0]["amount"]
        batch = {"batch_header": {"payout_batch_id": pid, "batch_status": "PENDING",
                                  "sender_batch_header": header, "amount": total},
                 "items": items, "read": False}
        objects["payout"][pid] = batch
        counts["payout"] += 1
        return 201, {"batch_header": dict(batch["batch_header"])}
    m = re.fullmatch(r"/v1/payments/payouts/([^/]+)", path)
    if m and method == "GET":
        batch = objects["payout"].get(m.group(1))
        if batch is None:
            return err(404, "INVALID_RESOURCE_ID", "Requested resource ID was not found.")
        if batch["read"]:
            batch["batch_header"]["batch_status"] = "SUCCESS"
        batch["read"] = True
        return 200, {"batch_header": batch["batch_header"], "items": batch["items"]}
    return err(404, "NOT_FOUND", "Unknown path %s %s" % (method, path))


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
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        if n > 1024 * 1024:
            self.close_connection = True
            return self.reply(413, {"name": "REQUEST_TOO_LARGE"})
        raw = self.rfile.read(n).decode("utf-8", "replace")
        if url.path.startswith("/__control/"):
            return self.control(url, raw)
        status, body = self.api(url, raw)
        return self.reply(status, body)

    def control(self, url, raw):
        with lock:
            if url.path == "/__control/fault":
                faults.append(json.loads(raw))
                return self.reply(200, {"ok": True})
            if url.path == "/__control/revoke":
                tokens.clear()
                return self.reply(200, {"ok": True})
            if url.path == "/__control/requests":
                return self.reply(200, list(received))
            if url.path == "/__control/count":
                kind = urllib.parse.parse_qs(url.query).get("kind", [""])[0]
                return self.reply(200, {"count": counts.get(kind, 0)})
        return self.reply(404, {"error": "no such control"})

    def api(self, url, raw):
        method, path = self.command, url.path
        request_id = self.headers.get("PayPal-Request-Id")
        with lock:
            received.append({"method": method, "path": path, "request_id": request_id,
                             "body": raw})
        if path == "/v1/oauth2/token":
            expected = "Basic " + base64.b64encode(
                ("%s:%s" % (CLIENT_ID, CLIENT_SECRET)).encode()).decode()
            if method != "POST" or self.headers.get("Authorization") != expected:
                return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
            if urllib.parse.parse_qs(raw).get("grant_type") != ["client_credentials"]:
                return 400, {"error": "unsupported_grant_type"}
            with lock:
                token = "A21AA" + new_id("T")
                tokens.add(token)
                counts["token"] += 1
            return 200, {"scope": "https://uri.paypal.com/services/payments/payment",
                         "access_token": token, "token_type": "Bearer", "app_id": "APP-LOCAL",
                         "expires_in": 32400, "nonce": "n%d" % serial[0]}
        auth = self.headers.get("Authorization", "")
        with lock:
            valid = auth.startswith("Bearer ") and auth[7:] in tokens
        if not valid:
            return 401, {"error": "invalid_token", "error_description": "Token signature verification failed"}
        body = {}
        if method == "POST":
            if not request_id:
                return err(400, "INVALID_REQUEST", "PayPal-Request-Id is required by this server")
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                return err(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
            try:
                body = json.loads(raw or "{}")
            except ValueError:
                return err(400, "INVALID_REQUEST", "Malformed JSON", "MALFORMED_REQUEST_JSON")
            if not isinstance(body, dict):
                return err(400, "INVALID_REQUEST", "Malformed JSON", "MALFORMED_REQUEST_JSON")
        fault = None
        with lock:
            for f in faults:
                if re.fullmatch(f["path"], path) and f.get("times", 1) > 0:
                    f["times"] = f.get("times", 1) - 1
                    fault = dict(f)
                    break
        if fault and "status" in fault:
            return err(fault["status"], "INTERNAL_SERVER_ERROR", "Injected failure")
        with lock:
            if method == "POST" and request_id in replies and replies[request_id][0] == path:
                result = replies[request_id][1:]
            else:
                result = perform(method, path, body)
                if method == "POST":
                    # A snapshot: a replay shows the first answer, not the object's state now.
                    replies[request_id] = (path, result[0], json.loads(json.dumps(result[1])))
        if fault and "timeout" in fault:
            time.sleep(float(fault["timeout"]))
        return result

    do_GET = handle_any
    do_POST = handle_any


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("LISTENING %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
