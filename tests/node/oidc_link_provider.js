// npm oidc-provider as the remote of an outgoing application link in Junction's tests.
// Env: CLIENT_ID, CLIENT_SECRET, JUNCTION_BASE (the client's base URL), ACCOUNT (who signs
// in there; default alice-remote), SKEW_SECONDS (shift the Date header, to test clock-skew
// detection). Listens on 127.0.0.1 on a free port; prints "ready <port>".
// Interactions (sign-in, consent) are answered at once for ACCOUNT: the tests exercise Junction
// as the client, not this provider's pages.
'use strict';

(async () => {
  const { default: Provider } = await import('oidc-provider');
  const http = require('node:http');
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  const account = process.env.ACCOUNT || 'alice-remote';
  const skew = Number(process.env.SKEW_SECONDS || 0);
  const issuer = `http://127.0.0.1:${port}`;
  // The redirect URI an Atlassian-style client derives from our authorization endpoint:
  // base64url(MD5(endpoint)) without padding, computed here independently of Junction.
  const key = require('node:crypto').createHash('md5').update(`${issuer}/auth`).digest('base64url');
  const redirectUri = `${process.env.JUNCTION_BASE}/plugins/servlet/oauth2/client/callback/${key}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [redirectUri],
      response_types: ['code'],
    }],
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, name: 'Alice at the remote' }),
    }),
    issueRefreshToken: async () => true,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: { AccessToken: 3600 },
  });
  provider.proxy = false;
  provider.use(async (ctx, next) => {
    if (ctx.path.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      let result;
      if (details.prompt.name === 'login') {
        result = { login: { accountId: account } };
      } else {
        const grant = new provider.Grant({ accountId: account, clientId: details.params.client_id });
        grant.addOIDCScope(details.params.scope);
        result = { consent: { grantId: await grant.save() } };
      }
      const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
      ctx.status = 303;
      return ctx.redirect(to);
    }
    await next();
    if (skew) ctx.set('Date', new Date(Date.now() + skew * 1000).toUTCString());
  });
  server.on('request', provider.callback());
  console.log(`ready ${port}`);
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
