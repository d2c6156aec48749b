"""A Connect app written in Python with PyPI atlassian-jwt, as a vendor would write one: it keeps
its tenants from the `installed` callback, verifies every signed lifecycle call with
`atlassian_jwt.Authenticator`, and calls the host with tokens from `atlassian_jwt.encode_token`
(claim shape iss = aud = clientKey). Prints "ready <base URL>" once it listens.

/probe/call?path=...&method=GET lets the test look inside: the app calls Junction and reports
the answer; /probe/events lists the lifecycle calls it accepted or refused.
"""
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import atlassian_jwt
import requests

tenants = {}
events = []
lock = threading.Lock()


class Tenants(atlassian_jwt.Authenticator):
    def get_shared_secret(self, client_key):
        return tenants[client_key]["sharedSecret"]


auth = Tenants()


class App(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/atlassian-connect.json":
            return self.reply(200, descriptor)
        if url.path == "/probe/events":
            return self.reply(200, events)
        if url.path == "/probe/call":
            tenant = tenants[query["clientKey"]]
            method = query.get("method", "GET")
            token = atlassian_jwt.encode_token(method, query["path"], **tenant)
            r = requests.request(method, tenant["baseUrl"] + query["path"],
                                 headers={"Authorization": "JWT " + token})
            return self.reply(200, {"status": r.status_code, "body": r.json() if r.content else None})
        self.reply(404, {"error": "no such page"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        key = body.get("clientKey")
        with lock:
            known = key in tenants
            if known or self.path != "/installed":
                # Signed with the secret this app was last given; refused otherwise.
                try:
                    result = auth.authenticate("POST", self.path, dict(self.headers))
                    assert result.client_key == key, "token for another tenant"
                except Exception as e:  # noqa: BLE001 - any failure refuses the call
                    events.append({"event": body.get("eventType"), "refused": str(e)})
                    return self.reply(401, {"error": str(e)})
            if self.path == "/installed":
                tenants[key] = body
            elif self.path == "/uninstalled":
                tenants.pop(key, None)
            events.append({"event": body.get("eventType"), "clientKey": key, "signed": known})
        self.reply(204)


server = ThreadingHTTPServer(("127.0.0.1", 0), App)
base = "http://127.0.0.1:%d" % server.server_address[1]
descriptor = {
    "key": "junction-python-interop",
    "name": "Python interop",
    "description": "A Connect app built with PyPI atlassian-jwt",
    "baseUrl": base,
    "authentication": {"type": "jwt"},
    "lifecycle": {"installed": "/installed", "uninstalled": "/uninstalled"},
    "scopes": ["account", "repository"],
}
print("ready " + base, flush=True)
server.serve_forever()
