#!/usr/bin/python3
"""A local stand-in for Twilio's Messages API (2010-04-01) that refuses what Twilio refuses.

POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded, HTTP Basic auth
(AccountSid:AuthToken). Checks, with Twilio's error codes and JSON error bodies:
  401 20003  missing/wrong credentials, or the path's AccountSid is not the authenticated one
  404 20404  any other path or method
  400 21604  To missing;  21211 To not E.164;  21603 neither From nor MessagingServiceSid;
      21212 From not E.164;  21602 Body (and MediaUrl) missing;  21617 Body over 1600 chars
      21609 StatusCallback not a URL; 415 if the body is not form-encoded
Accepted messages answer 201 with a Message resource (sid SM + 32 hex, status queued) and
print "RECEIVED <json of the form fields>". `--fail-status N --fail-count K` answers the
first K requests with HTTP N (20500 / 20429 bodies). Prints "LISTENING <port>".
"""
import argparse
import base64
import json
import re
import secrets
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()
STATE = {"failures_left": 0}
E164 = re.compile(r"^\+[1-9]\d{1,14}$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def fail(self, status, code, message):
        self.reply(status, {"code": code, "message": message,
                            "more_info": "https://www.twilio.com/docs/errors/%d" % code, "status": status})

    def do_GET(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.fail(404, 20404, "The requested resource was not found")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 64 * 1024:
            self.fail(413, 20001, "request too large")
            self.close_connection = True
            return
        raw = self.rfile.read(n)
        m = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/Messages\.json", urllib.parse.urlsplit(self.path).path)
        if not m:
            return self.fail(404, 20404, "The requested resource %s was not found" % self.path)
        auth = self.headers.get("Authorization", "")
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":") if auth.startswith("Basic ") else ("", "", "")
        except Exception:
            user, password = "", ""
        if user != ARGS.account_sid or password != ARGS.auth_token or m.group(1) != user:
            return self.fail(401, 20003, "Authenticate")
        with LOCK:
            if STATE["failures_left"] > 0:
                STATE["failures_left"] -= 1
                return self.fail(ARGS.fail_status, 20000 + ARGS.fail_status, "induced failure")
        if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return self.fail(415, 20415, "Unsupported Media Type")
        form = dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))
        to, sender, service = form.get("To"), form.get("From"), form.get("MessagingServiceSid")
        body, callback = form.get("Body"), form.get("StatusCallback")
        if not to:
            return self.fail(400, 21604, "A 'To' phone number is required.")
        if not E164.match(to):
            return self.fail(400, 21211, "The 'To' number %s is not a valid phone number." % to)
        if not sender and not service:
            return self.fail(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.")
        if sender and not E164.match(sender):
            return self.fail(400, 21212, "The 'From' number %s is not a valid phone number." % sender)
        if not body and not form.get("MediaUrl"):
            return self.fail(400, 21602, "Message body is required.")
        if body and len(body) > 1600:
            return self.fail(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if callback and not re.match(r"^https?://", callback):
            return self.fail(400, 21609, "Invalid StatusCallback url")
        sid = "SM" + secrets.token_hex(16)
        print("RECEIVED " + json.dumps(form), flush=True)
        self.reply(201, {
            "sid": sid, "account_sid": user, "to": to, "from": sender,
            "messaging_service_sid": service, "body": body, "status": "queued",
            "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
            "price": None, "error_code": None, "error_message": None,
            "uri": "/2010-04-01/Accounts/%s/Messages/%s.json" % (user, sid),
        })


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--account-sid", required=True)
    p.add_argument("--auth-token", required=True)
    p.add_argument("--fail-status", type=int, default=503)
    p.add_argument("--fail-count", type=int, default=0)
    ARGS = p.parse_args()
    STATE["failures_left"] = ARGS.fail_count
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("LISTENING %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
