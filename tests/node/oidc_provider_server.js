// npm oidc-provider as the benchmark's reference authorization server: client credentials
// enabled, its default in-memory store. Usage: node oidc_provider_server.js PORT
// Prints "ready" once listening.
'use strict';

(async () => {
  const { default: Provider } = await import('oidc-provider');
  const port = Number(process.argv[2]);
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: [{
      client_id: 'bench',
      client_secret: 'bench-secret-bench-secret-bench-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'api:read',
    }],
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
    scopes: ['api:read'],
  });
  provider.proxy = false;
  const server = provider.listen(port, '127.0.0.1', () => console.log('ready'));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
