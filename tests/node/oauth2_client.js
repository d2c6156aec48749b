// A Node.js OAuth 2.0 client built on simple-oauth2, run against a running Junction by the test
// suite: signs in and consents through the real forms, authorization code + PKCE (S256),
// calls the API, refreshes, revokes. Env: JUNCTION_URL, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
// USERNAME, PASSWORD. Prints a JSON summary; any failure exits non-zero.
'use strict';
const crypto = require('node:crypto');
const assert = require('node:assert/strict');
const { AuthorizationCode } = require('simple-oauth2');

const base = process.env.JUNCTION_URL;
const redirectUri = process.env.REDIRECT_URI;
const cookies = new Map();

/** fetch with a cookie jar and no redirect following, like a browser's view of one hop. */
async function browse(url, options = {}) {
  const headers = { ...(options.headers || {}), cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  const res = await fetch(new URL(url, base), { ...options, headers, redirect: 'manual' });
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    cookies.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return res;
}

function hiddenFields(html) {
  const fields = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    fields[m[1]] = m[2].replaceAll('&amp;', '&').replaceAll('&#x2F;', '/').replaceAll('&#x3D;', '=');
  }
  return fields;
}

(async () => {
  const login = await (await browse('/login')).text();
  const signIn = await browse('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...hiddenFields(login), username: process.env.USERNAME, password: process.env.PASSWORD }),
  });
  assert.equal(signIn.status, 303);

  const client = new AuthorizationCode({
    client: { id: process.env.CLIENT_ID, secret: process.env.CLIENT_SECRET },
    auth: {
      tokenHost: base,
      tokenPath: '/rest/oauth2/latest/token',
      authorizePath: '/rest/oauth2/latest/authorize',
      revokePath: '/rest/oauth2/latest/revoke',
    },
    options: { authorizationMethod: 'header' },
  });
  const verifier = crypto.randomBytes(48).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const state = crypto.randomBytes(8).toString('hex');
  const url = client.authorizeURL({
    redirect_uri: redirectUri, scope: 'REPO_READ', state, code_challenge: challenge, code_challenge_method: 'S256',
  });

  const consent = await browse(url);
  assert.equal(consent.status, 200);
  const decision = await browse('/plugins/servlet/oauth2/consent', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...hiddenFields(await consent.text()), decision: 'allow' }),
  });
  assert.equal(decision.status, 303);
  const back = new URL(decision.headers.get('location'));
  assert.equal(back.searchParams.get('state'), state);
  assert.equal(back.searchParams.get('iss'), base);

  let token = await client.getToken({ code: back.searchParams.get('code'), redirect_uri: redirectUri, code_verifier: verifier });
  assert.equal(token.token.scope, 'REPO_READ');
  const api = (t) => fetch(`${base}/rest/api/1.0/projects/P/repos/r`, { headers: { authorization: `Bearer ${t.token.access_token}` } });
  let res = await api(token);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-ausername'), process.env.USERNAME);

  const old = token;
  token = await token.refresh();
  assert.notEqual(token.token.access_token, old.token.access_token);
  assert.equal((await api(old)).status, 401);
  assert.equal((await api(token)).status, 200);

  await token.revokeAll();
  assert.equal((await api(token)).status, 401);
  console.log(JSON.stringify({ ok: true, scope: token.token.scope }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
