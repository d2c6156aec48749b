"""Signs generated requests the way OAuth 1.0a consumers do, with oauthlib's own Client:
HMAC-SHA1 with per-request secrets, and RSA-SHA1 with a fresh key whose public half is given as
Atlassian's consumer-info gives it (base64 DER). Odd paths, repeated and empty query
parameters, reserved and non-ASCII characters, form bodies, ports. Prints them as JSON for
Junction's verifier to check.
"""
import json
import random
import urllib.parse

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from oauthlib.oauth1 import SIGNATURE_HMAC, SIGNATURE_RSA, Client

rng = random.Random(5849)
pieces = ["a", "Z", "0", "-", "_", ".", "~", " ", "+", "*", "!", "'", "(", ")", "&", "=", "/", "%", ",", ":", "é", "✓"]


def text(n):
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, n)))


key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
public_der = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)

out = []
for i in range(360):
    rsa_signed = i >= 300
    host = rng.choice(["example.com", "Example.COM", "127.0.0.1"])
    port = rng.choice(["", ":80", ":8080", ":443"])
    scheme = rng.choice(["http", "https"])
    path = "/" + "/".join(urllib.parse.quote(text(4), safe="") or "x" for _ in range(rng.randint(0, 3)))
    query = urllib.parse.urlencode([(rng.choice(["a", "b", "q", "x y", "é"]), text(5)) for _ in range(rng.randint(0, 4))])
    url = f"{scheme}://{host}{port}{path}" + (f"?{query}" if query else "")
    method = rng.choice(["GET", "POST", "PUT", "DELETE"])
    secret, token_secret = text(8) or "s", text(8)
    if rsa_signed:
        client = Client("consumer-" + str(i), resource_owner_key="token-" + str(i),
                        signature_method=SIGNATURE_RSA, rsa_key=private_pem)
    else:
        client = Client("consumer-" + str(i), client_secret=secret, resource_owner_key="token-" + str(i),
                        resource_owner_secret=token_secret, signature_method=SIGNATURE_HMAC)
    body, headers = None, {}
    if method == "POST" and rng.random() < 0.6:
        body = urllib.parse.urlencode([(rng.choice(["c", "d d", "ü"]), text(5)) for _ in range(rng.randint(1, 3))])
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    uri, signed, signed_body = client.sign(url, http_method=method, body=body, headers=headers)
    out.append({"method": method, "url": uri, "authorization": signed["Authorization"],
                "body": signed_body or "", "secret": secret, "token_secret": token_secret})
print(json.dumps({"requests": out, "public_key": base64.b64encode(public_der).decode()}))
