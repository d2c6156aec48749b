"""An OAuth 2.0 client built on authlib, run against a running Junction.

It signs in and consents through Junction's real HTML forms (as a browser would), runs the
authorization-code flow with PKCE (S256), calls the REST API with the token, gets 403 past its
scope, refreshes, revokes, and finally uses atlassian-python-api with an OAuth token.

Environment: JUNCTION_URL, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, USERNAME, PASSWORD.
Prints a JSON summary; any failure raises.
"""
import json
import os
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlparse

import requests
from atlassian import Bitbucket
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

base = os.environ["JUNCTION_URL"]
api = f"{base}/rest/oauth2/latest"
redirect_uri = os.environ["REDIRECT_URI"]


class Inputs(HTMLParser):
    """Collects the hidden inputs of the first form (CSRF token, consent parameters)."""

    def __init__(self):
        super().__init__()
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"]] = a.get("value", "")


def hidden_fields(html):
    p = Inputs()
    p.feed(html)
    return p.fields


# The person: sign in through the form.
browser = requests.Session()
login = browser.get(f"{base}/login")
fields = hidden_fields(login.text)
fields.update(username=os.environ["USERNAME"], password=os.environ["PASSWORD"])
r = browser.post(f"{base}/login", data=fields, allow_redirects=False)
assert r.status_code == 303, r.status_code

# Metadata tells the client where everything is.
meta = requests.get(f"{base}/.well-known/oauth-authorization-server").json()
assert meta["authorization_endpoint"] == f"{api}/authorize", meta

# The client: authorization URL with PKCE.
client = OAuth2Session(
    os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"], scope="REPO_READ",
    redirect_uri=redirect_uri, code_challenge_method="S256",
    token_endpoint_auth_method="client_secret_basic",
)
verifier = generate_token(64)
url, state = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier)

# The person consents through the page.
page = browser.get(url, allow_redirects=False)
assert page.status_code == 200, page.status_code
assert page.headers["X-Frame-Options"] == "DENY"
form = hidden_fields(page.text)
form["decision"] = "allow"
answer = browser.post(f"{base}/plugins/servlet/oauth2/consent", data=form, allow_redirects=False)
assert answer.status_code == 303, answer.status_code
callback = answer.headers["Location"]
params = parse_qs(urlparse(callback).query)
assert params["state"] == [state], params
assert params["iss"] == [base], params

token = client.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)
assert token["token_type"].lower() == "bearer" and token["scope"] == "REPO_READ", token

repo = client.get(f"{base}/rest/api/1.0/projects/P/repos/r")
assert repo.status_code == 200 and repo.json()["slug"] == "r", repo.text
assert repo.headers["X-AUSERNAME"] == os.environ["USERNAME"]
created = client.post(f"{base}/rest/api/1.0/projects", json={"key": "NOPE", "name": "Nope"})
assert created.status_code == 403, created.status_code
admin = client.put(f"{base}/rest/api/1.0/projects/P/repos/r", json={"description": "x"})
assert admin.status_code == 403, admin.status_code

old_access = token["access_token"]
refreshed = client.refresh_token(meta["token_endpoint"])
assert refreshed["access_token"] != old_access
assert requests.get(f"{base}/rest/api/1.0/projects/P/repos/r", headers={"Authorization": f"Bearer {old_access}"}).status_code == 401
assert client.get(f"{base}/rest/api/1.0/projects/P/repos/r").status_code == 200

# atlassian-python-api works with the OAuth token like with any Bitbucket Data Center token.
bb = Bitbucket(url=base, token=refreshed["access_token"])
projects = [p["key"] for p in bb.project_list()]
assert projects == ["P"], projects

revoked = client.revoke_token(meta["revocation_endpoint"], token=refreshed["refresh_token"], token_type_hint="refresh_token")
assert revoked.status_code == 200, revoked.status_code
assert client.get(f"{base}/rest/api/1.0/projects/P/repos/r").status_code == 401

print(json.dumps({"projects": projects, "scope": token["scope"], "revoked": True}))
