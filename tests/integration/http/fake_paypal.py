#!/usr/bin/python3
"""A local stand-in for PayPal's REST API, for the webhook tests: the two calls a webhook
receiver makes, with PayPal's documented shapes and refusals.

  POST /v1/oauth2/token                           Basic auth client_id:secret,
                                                  grant_type=client_credentials (form)
  POST /v1/notifications/verify-webhook-signature Bearer token from the call above, JSON
                                                  with the seven required fields

PayPal signs "<transmission_id>|<transmission_time>|<webhook_id>|<crc32 of the body>"
with RSA; this fake stands in an HMAC-SHA256 (key given on the command line, base64)
over "<transmission_id>|<transmission_time>|<webhook_id>|<sha256 hex of the canonical
JSON body>" so the test can sign with the openssl command line. Prints its port.

usage: fake_paypal.py CLIENT_ID CLIENT_SECRET WEBHOOK_ID SIGNING_KEY
"""
import base64
import hashlib
import hmac
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID, KEY = sys.argv[1:5]
TOKENS = set()
REQUIRED = {
    "auth_algo": re.compile(r"^[a-zA-Z0-9]+$"),
    "cert_url": re.compile(r"^https?://\S+$"),
    "transmission_id": re.compile(r"^(?!\d+$)\w+\S+"),
    # PayPal documents ^(?!\d+$)\w+\S+ here; a base64 signature may begin with + or /,
    # which this stand-in (signing with HMAC, not RSA) would otherwise refuse at random.
    "transmission_sig": re.compile(r"^\S+$"),
    "transmission_time": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"),
    "webhook_id": re.compile(r"^[a-zA-Z0-9]+$"),
}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        if length > 1 << 20:
            return self.reply(413, {"name": "REQUEST_TOO_LARGE"})
        body = self.rfile.read(length)
        if self.path == "/v1/oauth2/token":
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                return self.reply(401, {"error": "invalid_client",
                                        "error_description": "Client Authentication failed"})
            if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded") \
                    or body != b"grant_type=client_credentials":
                return self.reply(400, {"error": "unsupported_grant_type"})
            token = "A21AA" + base64.b16encode(hashlib.sha256(body + str(len(TOKENS)).encode()).digest()[:16]).decode()
            TOKENS.add(token)
            return self.reply(200, {"scope": "https://uri.paypal.com/services/applications/webhooks",
                                    "access_token": token, "token_type": "Bearer",
                                    "app_id": "APP-TEST", "expires_in": 32400, "nonce": "n"})
        if self.path == "/v1/notifications/verify-webhook-signature":
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in TOKENS:
                return self.reply(401, {"error": "invalid_token",
                                        "error_description": "Token signature verification failed"})
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                return self.reply(415, {"name": "UNSUPPORTED_MEDIA_TYPE"})
            try:
                call = json.loads(body)
            except ValueError:
                return self.reply(400, {"name": "MALFORMED_REQUEST"})
            details = [{"field": f, "issue": "MISSING_REQUIRED_PARAMETER"}
                       for f in list(REQUIRED) + ["webhook_event"] if f not in call]
            details += [{"field": f, "issue": "INVALID_PARAMETER_SYNTAX"}
                        for f, pattern in REQUIRED.items()
                        if f in call and (not isinstance(call[f], str) or not pattern.match(call[f]))]
            if not isinstance(call.get("webhook_event"), dict):
                details.append({"field": "webhook_event", "issue": "INVALID_PARAMETER_SYNTAX"})
            if details:
                return self.reply(400, {"name": "VALIDATION_ERROR", "details": details})
            canonical = json.dumps(call["webhook_event"], sort_keys=True, separators=(",", ":"))
            message = "|".join([call["transmission_id"], call["transmission_time"],
                                call["webhook_id"], hashlib.sha256(canonical.encode()).hexdigest()])
            expected = base64.b64encode(hmac.new(KEY.encode(), message.encode(), hashlib.sha256).digest()).decode()
            ok = call["webhook_id"] == WEBHOOK_ID and hmac.compare_digest(expected, call["transmission_sig"])
            return self.reply(200, {"verification_status": "SUCCESS" if ok else "FAILURE"})
        return self.reply(404, {"name": "RESOURCE_NOT_FOUND"})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"port {server.server_address[1]}", flush=True)
server.serve_forever()
