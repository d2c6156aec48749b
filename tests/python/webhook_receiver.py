"""A webhook receiver built on the `standardwebhooks` library, for Junction's interop tests.

Usage: webhook_receiver.py SECRET
Prints `PORT <n>` once listening on 127.0.0.1, then one JSON line per request:
{"id", "key", "attempt", "standard": bool, "hub": bool, "error", "body"}. Every delivery is
verified with the library (`webhook-id`, `webhook-timestamp`, `webhook-signature`) and the
`X-Hub-Signature` header is checked with plain HMAC-SHA256. Answers 204 when both verify,
401 otherwise.
"""

import hashlib
import hmac
import http.server
import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET = sys.argv[1]
HOOK = Webhook(SECRET)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k: v for k, v in self.headers.items()}
        result = {
            "id": self.headers.get("webhook-id"),
            "key": self.headers.get("x-event-key"),
            "attempt": self.headers.get("x-attempt-number"),
            "standard": False,
            "hub": False,
            "error": None,
            "body": body.decode("utf-8", "replace"),
        }
        try:
            HOOK.verify(body, headers)
            result["standard"] = True
        except WebhookVerificationError as e:
            result["error"] = str(e)
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        result["hub"] = hmac.compare_digest(expected, self.headers.get("x-hub-signature", ""))
        print(json.dumps(result), flush=True)
        ok = result["standard"] and result["hub"]
        self.send_response(204 if ok else 401)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
