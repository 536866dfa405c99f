// A real OpenID Connect provider for the single sign-on tests (the npm package oidc-provider).
// Configured by environment variables: PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, and
// ACCOUNTS, a JSON object {login: {email, name, groups}}. Its development login page takes
// any account of ACCOUNTS by its login (the password is not checked), then asks for consent.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const accounts = JSON.parse(process.env.ACCOUNTS || '{}');
const provider = new Provider(`http://localhost:${port}`, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['csplatform-tests-only'] },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, email_verified: true, name: account.name, groups: account.groups };
      },
    };
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${port}`));
