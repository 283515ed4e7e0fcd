// A real OpenID Connect provider (oidc-provider) for Pinhole's single sign-on
// end-to-end test: one static confidential client, PKCE required, the
// built-in login and consent pages (devInteractions: any password works for
// the accounts below), listening on 127.0.0.1 only.
//
// Usage: node provider.mjs PORT REDIRECT_URI
// Prints "ready <issuer>" once it listens.
import http from 'node:http';
import Provider from 'oidc-provider';

const [port, redirectUri] = process.argv.slice(2);
if (!port || !redirectUri) {
  console.error('usage: node provider.mjs PORT REDIRECT_URI');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

// Claims of the test users; the e2e test maps "eng" to a Pinhole group.
const accounts = {
  ann: { email: 'ann@example.com', email_verified: true, name: 'Ann', groups: ['eng', 'finance'] },
  bob: { email: 'bob@example.com', email_verified: false, name: 'Bob', groups: ['eng'] },
  cat: { email: 'cat@example.com', email_verified: true, name: 'Cat', groups: [] },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'pinhole',
    client_secret: 'pinhole-oidc-test-secret',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  // Put the scopes' claims into the ID token (Pinhole reads no userinfo).
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'groups'],
  },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
  cookies: { keys: ['pinhole-oidc-e2e-cookie-key-not-secret'] },
  features: { devInteractions: { enabled: true } },
});

const server = http.createServer(provider.callback());
server.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
