#!/usr/bin/python3
"""A strict S3-compatible object server on 127.0.0.1 for the storage tests.

It verifies AWS Signature Version 4 independently of the client (header auth and presigned
query auth), as S3 does: the canonical request from the method, the path as sent, the
sorted query, the signed headers; the credential scope (date, region, service "s3"); the
x-amz-date within 15 minutes; x-amz-content-sha256 present and equal to the body's SHA-256
(or UNSIGNED-PAYLOAD); Content-MD5 when sent (BadDigest); presigned URLs' X-Amz-Expires.
Path-style only: /<bucket>/<key>. Objects live in memory. Prints "LISTENING <port>" and
"REQUEST <method> <path> <status>" per request.

  --access-key AK --secret-key SK --region R --bucket B
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
OBJECTS = {}
LOCK = threading.Lock()
EMPTY_SHA = hashlib.sha256(b"").hexdigest()


def quote(s):
    return urllib.parse.quote(s, safe="-_.~")


def signing_key(secret, day, region, service):
    k = hmac.new(("AWS4" + secret).encode(), day.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


class S3Error(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        print("REQUEST %s %s %d" % (self.command, urllib.parse.urlsplit(self.path).path, status), flush=True)

    def error(self, e):
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code><Message>%s</Message></Error>"
                % (e.code, e.message)).encode()
        self.reply(e.status, body, {"Content-Type": "application/xml"})

    def canonical(self, path, query_pairs, signed, payload_hash):
        q = "&".join("%s=%s" % (quote(k), quote(v)) for k, v in sorted(query_pairs))
        headers = ""
        for name in signed:
            value = self.headers.get(name)
            if value is None:
                raise S3Error(403, "SignatureDoesNotMatch", "signed header %s missing" % name)
            headers += "%s:%s\n" % (name, re.sub(r"\s+", " ", value.strip()))
        return "\n".join([self.command, path, q, headers, ";".join(signed), payload_hash])

    def check_time(self, stamp, expires=None):
        try:
            t = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            raise S3Error(403, "AccessDenied", "bad X-Amz-Date")
        now = datetime.datetime.now(datetime.timezone.utc)
        if expires is None:
            if abs((now - t).total_seconds()) > 900:
                raise S3Error(403, "RequestTimeTooSkewed", "request time too skewed")
        else:
            if not 1 <= expires <= 604800:
                raise S3Error(400, "AuthorizationQueryParametersError", "X-Amz-Expires out of range")
            if (now - t).total_seconds() > expires:
                raise S3Error(403, "AccessDenied", "Request has expired")
        return t

    def verify(self, body):
        split = urllib.parse.urlsplit(self.path)
        path = split.path
        pairs = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
        params = dict(pairs)
        if "X-Amz-Signature" in params:
            if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
                raise S3Error(400, "AuthorizationQueryParametersError", "bad X-Amz-Algorithm")
            credential = params.get("X-Amz-Credential", "")
            signed = params.get("X-Amz-SignedHeaders", "").split(";")
            stamp = params.get("X-Amz-Date", "")
            self.check_time(stamp, int(params.get("X-Amz-Expires", "0")))
            provided = params["X-Amz-Signature"]
            rest = [(k, v) for k, v in pairs if k != "X-Amz-Signature"]
            payload = "UNSIGNED-PAYLOAD"
        else:
            auth = self.headers.get("Authorization")
            if not auth:
                raise S3Error(403, "AccessDenied", "Access Denied")
            m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})", auth)
            if not m:
                raise S3Error(400, "AuthorizationHeaderMalformed", "malformed Authorization header")
            credential, signed, provided = m.group(1), m.group(2).split(";"), m.group(3)
            stamp = self.headers.get("x-amz-date", "")
            self.check_time(stamp)
            payload = self.headers.get("x-amz-content-sha256")
            if payload is None:
                raise S3Error(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
            if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(body).hexdigest():
                raise S3Error(400, "XAmzContentSHA256Mismatch",
                              "The provided 'x-amz-content-sha256' header does not match what was computed.")
            if "host" not in signed or "x-amz-date" not in signed or "x-amz-content-sha256" not in signed:
                raise S3Error(403, "SignatureDoesNotMatch", "host, x-amz-date and x-amz-content-sha256 must be signed")
            rest = pairs
        if signed != sorted(signed):
            raise S3Error(403, "SignatureDoesNotMatch", "signed headers not sorted")
        parts = credential.split("/")
        if len(parts) != 5 or parts[4] != "aws4_request" or parts[3] != "s3":
            raise S3Error(400, "AuthorizationHeaderMalformed", "bad credential scope")
        ak, day, region = parts[0], parts[1], parts[2]
        if ak != ARGS.access_key:
            raise S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
        if region != ARGS.region:
            raise S3Error(400, "AuthorizationHeaderMalformed", "the region '%s' is wrong; expecting '%s'" % (region, ARGS.region))
        if not stamp.startswith(day):
            raise S3Error(403, "SignatureDoesNotMatch", "credential date does not match X-Amz-Date")
        canonical = self.canonical(path, rest, signed, payload)
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, "/".join(parts[1:]),
                             hashlib.sha256(canonical.encode()).hexdigest()])
        expected = hmac.new(signing_key(ARGS.secret_key, day, region, "s3"), to_sign.encode(),
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, provided):
            raise S3Error(403, "SignatureDoesNotMatch",
                          "The request signature we calculated does not match the signature you provided.")

    def handle_any(self):
        try:
            n = int(self.headers.get("Content-Length") or 0)
            if n > 16 * 1024 * 1024:
                raise S3Error(400, "EntityTooLarge", "too large")
            body = self.rfile.read(n)
            self.verify(body)
            path = urllib.parse.urlsplit(self.path).path
            bucket, _, key = path.lstrip("/").partition("/")
            bucket, key = urllib.parse.unquote(bucket), urllib.parse.unquote(key)
            if bucket != ARGS.bucket:
                raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist")
            if not key:
                raise S3Error(400, "InvalidRequest", "bucket operations are not supported here")
            if self.command == "PUT":
                md5 = self.headers.get("Content-MD5")
                if md5 is not None and base64.b64encode(hashlib.md5(body).digest()).decode() != md5:
                    raise S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
                meta = {k.lower(): v for k, v in self.headers.items() if k.lower().startswith("x-amz-meta-")}
                etag = '"%s"' % hashlib.md5(body).hexdigest()
                with LOCK:
                    OBJECTS[key] = (body, self.headers.get("Content-Type", "binary/octet-stream"), meta, etag)
                self.reply(200, b"", {"ETag": etag})
            elif self.command in ("GET", "HEAD"):
                with LOCK:
                    obj = OBJECTS.get(key)
                if obj is None:
                    raise S3Error(404, "NoSuchKey", "The specified key does not exist.")
                body, ctype, meta, etag = obj
                headers = {"Content-Type": ctype, "ETag": etag}
                headers.update(meta)
                self.reply(200, body, headers)
            elif self.command == "DELETE":
                with LOCK:
                    OBJECTS.pop(key, None)
                self.reply(204)
            else:
                raise S3Error(405, "MethodNotAllowed", "method not allowed")
        except S3Error as e:
            self.error(e)

    do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = handle_any


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--access-key", required=True)
    p.add_argument("--secret-key", required=True)
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--bucket", required=True)
    ARGS = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("LISTENING %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
