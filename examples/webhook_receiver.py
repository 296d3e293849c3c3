#!/usr/bin/env python3
"""Receive zarrbench's signed job callbacks and print each verified one.

    python3 webhook_receiver.py --secret-file /var/lib/zarrbench/webhook-secret --port 9000

then submit jobs with "callback_url": "http://<this host>:9000/". Each
delivery that verifies is printed as one JSON line on stdout:

    {"webhook_id": "msg_...", "type": "benchmark.completed", "job_id": "...",
     "status": "completed", "recommendations": {"archival": "...", ...}}

Failed and cancelled jobs have "error" and null recommendations. Everything
else (the listening address, refusals and their reasons) goes to stderr.

A delivery is accepted (204) only when
- its webhook-signature holds a `v1,` signature equal to the base64
  HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}", keyed with the
  base64-decoded part of the secret after `whsec_` (compared in constant time);
- its webhook-timestamp is within 5 minutes of this machine's clock;
- it is not a replay: a webhook-id already seen with the same or a later
  timestamp is refused.
Anything else gets 401 and is not printed.

The service retries a delivery it thinks failed with the same webhook-id and
a fresh timestamp and signature. Such a retry is acknowledged (204) so the
service stops, but not printed again: delivery is at least once, and the id
is what drops duplicates. Seen ids are kept in memory for a day (at most
100,000 of them) and forgotten when the receiver restarts.

The secret is the service's: BENCHMARK_WEBHOOK_SECRET when it sets one,
otherwise the file `webhook-secret` it generated in its data directory.
Standard library only.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Deliveries whose timestamp is further than this from the local clock are
# refused, so a captured delivery cannot be replayed later.
TOLERANCE_SECONDS = 5 * 60
# How long and how many webhook-ids are remembered for duplicate detection.
SEEN_ID_SECONDS = 24 * 60 * 60
MAX_SEEN_IDS = 100_000
# A job's event holds its full results; far below this in practice.
MAX_BODY_BYTES = 16 * 1024 * 1024


class Refused(Exception):
    """Why a delivery was not accepted."""


def signing_key(secret):
    """The HMAC key: the base64 part of `whsec_<base64>`."""
    encoded = secret.strip()
    if encoded.startswith("whsec_"):
        encoded = encoded[len("whsec_"):]
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the secret must be whsec_ followed by base64")
    if not key:
        raise ValueError("the secret is empty")
    return key


def verify_signature(key, webhook_id, timestamp, body, signature_header):
    """True when one of the header's `v1,<base64>` signatures matches."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    matched = False
    for candidate in signature_header.split():
        version, _, signature = candidate.partition(",")
        if version != "v1":
            continue
        # Check every candidate, not just up to the first match, so the
        # time taken does not say which one matched.
        if hmac.compare_digest(signature.encode(), expected):
            matched = True
    return matched


class SeenIds:
    """webhook-ids already accepted, with the latest timestamp of each."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ids = OrderedDict()  # id -> (latest timestamp, first seen at)

    def record(self, webhook_id, timestamp, now):
        """'new' for a first delivery, 'retry' for a later attempt of one
        already accepted; raises Refused for a replay."""
        with self.lock:
            self._forget_old(now)
            previous = self.ids.get(webhook_id)
            if previous is None:
                self.ids[webhook_id] = (timestamp, now)
                return "new"
            latest, first_seen = previous
            if timestamp <= latest:
                raise Refused(f"replay of {webhook_id}")
            self.ids[webhook_id] = (timestamp, first_seen)
            return "retry"

    def _forget_old(self, now):
        while self.ids:
            oldest_id, (_, first_seen) = next(iter(self.ids.items()))
            if now - first_seen <= SEEN_ID_SECONDS and len(self.ids) < MAX_SEEN_IDS:
                return
            del self.ids[oldest_id]


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, key):
        super().__init__(address, DeliveryHandler)
        self.key = key
        self.seen = SeenIds()
        self.print_lock = threading.Lock()

    def check(self, headers, body):
        """The event of a delivery that verifies, and whether it is new;
        raises Refused otherwise."""
        webhook_id = headers.get("webhook-id", "")
        timestamp_text = headers.get("webhook-timestamp", "")
        signatures = headers.get("webhook-signature", "")
        if not (webhook_id and timestamp_text and signatures):
            raise Refused("missing webhook-id, webhook-timestamp or webhook-signature")
        try:
            timestamp = int(timestamp_text)
        except ValueError:
            raise Refused(f"webhook-timestamp is not an integer: {timestamp_text!r}")

        if not verify_signature(self.key, webhook_id, timestamp_text, body, signatures):
            raise Refused(f"no valid signature for {webhook_id}")
        now = time.time()
        if abs(now - timestamp) > TOLERANCE_SECONDS:
            raise Refused(f"timestamp of {webhook_id} is {int(now - timestamp)} s off")
        try:
            event = json.loads(body)
        except ValueError:
            raise Refused(f"body of {webhook_id} is not JSON")
        freshness = self.seen.record(webhook_id, timestamp, now)
        return event, freshness == "new"

    def emit(self, webhook_id, event):
        data = event.get("data") or {}
        results = data.get("results") or {}
        line = {
            "webhook_id": webhook_id,
            "type": event.get("type"),
            "job_id": data.get("job_id"),
            "status": data.get("status"),
            "recommendations": results.get("recommendations"),
        }
        if data.get("error"):
            line["error"] = data["error"]
        with self.print_lock:
            print(json.dumps(line), flush=True)


class DeliveryHandler(BaseHTTPRequestHandler):
    server_version = "zarrbench-webhook-receiver"

    def do_POST(self):
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            log(f"refused: Content-Length missing or over {MAX_BODY_BYTES} bytes")
            self.answer(401)
            return
        body = self.rfile.read(length)

        try:
            event, new = self.server.check(self.headers, body)
        except Refused as reason:
            log(f"refused: {reason}")
            self.answer(401)
            return
        webhook_id = self.headers["webhook-id"]
        if new:
            self.server.emit(webhook_id, event)
        else:
            log(f"duplicate delivery of {webhook_id} acknowledged")
        self.answer(204)

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        # One line per refusal is logged by do_POST; the default access log
        # would repeat every request.
        pass


def log(text):
    print(text, file=sys.stderr, flush=True)


def read_secret(arguments):
    if arguments.secret:
        return arguments.secret
    if arguments.secret_file:
        with open(arguments.secret_file, encoding="utf-8") as file:
            return file.read()
    return os.environ.get("BENCHMARK_WEBHOOK_SECRET", "")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Receive and verify zarrbench's signed job callbacks.")
    parser.add_argument("--secret",
                        help="whsec_... signing secret (default: $BENCHMARK_WEBHOOK_SECRET)")
    parser.add_argument("--secret-file",
                        help="read the secret from this file, e.g. the service's "
                             "DATA_DIR/webhook-secret")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default %(default)s)")
    parser.add_argument("--port", type=int, default=9000,
                        help="port to listen on; 0 picks a free one (default %(default)s)")
    arguments = parser.parse_args(argv)

    try:
        secret = read_secret(arguments)
        key = signing_key(secret) if secret.strip() else None
    except (OSError, ValueError) as error:
        parser.error(str(error))
    if key is None:
        parser.error("no secret: pass --secret, --secret-file or set BENCHMARK_WEBHOOK_SECRET")

    server = Receiver((arguments.host, arguments.port), key)
    host, port = server.server_address[:2]
    log(f"listening on http://{host}:{port}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
