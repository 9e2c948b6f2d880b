#!/usr/bin/python3
"""A small HTTP/1.1 server on 127.0.0.1 for the HTTP client's tests.

Prints "LISTENING <port>" once it accepts connections. Endpoints:
  /echo                 200, JSON {method, path, query, headers, body, client_port}
  /status/<code>        that status; ?retry_after=V adds Retry-After: V
  /sleep?ms=N           waits N ms, then 200 (bounded to 30 s)
  /bytes?n=N            200 with N bytes of 'x' (bounded to 64 MiB); &chunked=1 without length
  /redirect?to=PATH     302 to PATH
  /flaky?key=K&fail=F   the first F hits of key K get 503 (+Retry-After if retry_after=V), then
                        200 {"hits": n}
  /hits?key=K           200 {"hits": n} without counting
  /barrier?key=K&n=N    holds each request until N requests of key K arrived (10 s limit):
                        200 {"arrived": N} when they all did, 504 otherwise
  /drop                 reads the request and closes the connection without a response
Request bodies over 1 MiB are refused with 413; a slow client times out after 10 s.
"""
import json
import socketserver
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

hits = {}
barriers = {}
lock = threading.Condition()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body=b"", headers=None, ctype="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 1024 * 1024:
            self.reply(413, {"error": "body too large"})
            self.close_connection = True
            return None
        return self.rfile.read(n)

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        body = self.read_body()
        if body is None:
            return
        path = url.path
        if path == "/echo":
            self.reply(200, {
                "method": self.command, "path": path, "query": q,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body": body.decode("utf-8", "replace"),
                "client_port": self.client_address[1]})
        elif path.startswith("/status/"):
            code = int(path.split("/")[2])
            headers = {"Retry-After": q["retry_after"]} if "retry_after" in q else {}
            self.reply(code, {"status": code}, headers)
        elif path == "/sleep":
            time.sleep(min(int(q.get("ms", "0")), 30000) / 1000.0)
            self.reply(200, {"slept": True})
        elif path == "/bytes":
            n = min(int(q.get("n", "0")), 64 * 1024 * 1024)
            if q.get("chunked") == "1":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                left = n
                while left > 0:
                    part = min(left, 65536)
                    self.wfile.write(b"%x\r\n" % part + b"x" * part + b"\r\n")
                    left -= part
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.reply(200, b"x" * n, ctype="text/plain")
        elif path == "/redirect":
            self.reply(302, b"", {"Location": q.get("to", "/echo")})
        elif path in ("/flaky", "/hits"):
            key = q.get("key", "")
            with lock:
                if path == "/flaky":
                    hits[key] = hits.get(key, 0) + 1
                n = hits.get(key, 0)
            if path == "/flaky" and n <= int(q.get("fail", "0")):
                headers = {"Retry-After": q["retry_after"]} if "retry_after" in q else {}
                self.reply(int(q.get("code", "503")), {"hits": n}, headers)
            else:
                self.reply(200, {"hits": n})
        elif path == "/barrier":
            key, n = q.get("key", ""), int(q.get("n", "1"))
            deadline = time.monotonic() + 10
            with lock:
                barriers[key] = barriers.get(key, 0) + 1
                lock.notify_all()
                while barriers[key] < n and time.monotonic() < deadline:
                    lock.wait(deadline - time.monotonic())
                arrived = barriers[key]
            self.reply(200 if arrived >= n else 504, {"arrived": arrived})
        elif path == "/drop":
            self.close_connection = True
            self.connection.shutdown(2)
        else:
            self.reply(404, {"error": "no such path"})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print("LISTENING %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
