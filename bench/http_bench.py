#!/usr/bin/python3
"""Load for a running `artistsaid serve`, from this machine only (127.0.0.1), bounded in
count and time. Each phase sends REQUESTS requests over CONNECTIONS keep-alive
connections (one thread each) and prints requests/s and latency percentiles as JSON:

  healthz   GET /healthz                    (answered on the event loop)
  api       GET /api/v1/runs?limit=1        (API key lookup, rate limit in Redis, SQL)
  webhook   POST /hooks/generic/bench       (HMAC check, insert, dispatch; unique ids)

usage: bench/http_bench.py PORT API_KEY WEBHOOK_SECRET [REQUESTS] [CONNECTIONS]
The server needs ARTISTSAID_SECRET_WEBHOOK_SECRET_BENCH=WEBHOOK_SECRET and a rate limit
above the load (ARTISTSAID_HTTP_RATE_LIMIT / _BURST).
"""
import hashlib
import hmac
import http.client
import json
import sys
import threading
import time
import uuid

PORT, KEY, SECRET = int(sys.argv[1]), sys.argv[2], sys.argv[3]
REQUESTS = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
CONNECTIONS = int(sys.argv[5]) if len(sys.argv) > 5 else 4
DEADLINE_S = 120  # every phase stops by then, whatever is left


def request_for(phase):
    if phase == "healthz":
        return "GET", "/healthz", None, {}
    if phase == "api":
        return "GET", "/api/v1/runs?limit=1", None, {"Authorization": "Bearer " + KEY}
    body = json.dumps({"id": str(uuid.uuid4()), "type": "bench.ping", "key": "k"})
    ts = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), (ts + "." + body).encode(), hashlib.sha256).hexdigest()
    return "POST", "/hooks/generic/bench", body, {
        "Content-Type": "application/json", "X-Webhook-Timestamp": ts,
        "X-Webhook-Signature": "sha256=" + sig}


def run(phase):
    per_thread = REQUESTS // CONNECTIONS
    latencies, errors = [], []
    lock = threading.Lock()
    stop_at = time.monotonic() + DEADLINE_S

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        mine = []
        for _ in range(per_thread):
            if time.monotonic() > stop_at:
                break
            method, path, body, headers = request_for(phase)
            t0 = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            mine.append(time.perf_counter() - t0)
            if resp.status != 200:
                with lock:
                    errors.append(resp.status)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    pct = lambda p: round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)
    return {"phase": phase, "requests": len(latencies), "connections": CONNECTIONS,
            "per_s": round(len(latencies) / elapsed), "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "errors": len(errors)}


for phase in ("healthz", "api", "webhook"):
    print(json.dumps(run(phase)), flush=True)
