// The OpenID provider the ProConnect tests start themselves: oidc-provider (OpenID
// Certified), configured as ProConnect answers a service provider: PKCE S256 required,
// RS256 ID tokens, e-mail / SIRET / names in a signed userinfo, acr and amr.
//
// Usage: node provider.js PORT REDIRECT_URI POST_LOGOUT_REDIRECT_URI
// Prints "ready ISSUER" once listening. Test controls (this test server only):
//   GET /_test/next?sub=&email=&email_verified=&siret=&given_name=&usual_name=&acr=&amr=
//       the account the next authorization signs in (no login form to fill)
//   GET /_test/forge?on=1   the JWKS served no longer holds the signing key (same kid,
//       another key): every ID token then carries a signature by a key not published
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, redirectUri, postLogoutUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

function rsaJwk(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
}

const signing = rsaJwk('test-signing-key');
// Same kid, another key: what a forger who does not hold the provider's key can sign with.
const { d, p, q, dp, dq, qi, ...impostor } = rsaJwk('test-signing-key');
const accounts = new Map();
let next = null;
let forge = false;

const client = {
  client_secret: 'test-client-secret-0123456789abcdef',
  redirect_uris: [redirectUri],
  post_logout_redirect_uris: [postLogoutUri],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: 'RS256',
  // ProConnect answers userinfo as a signed JWT.
  userinfo_signed_response_alg: 'RS256',
};

const configuration = {
  clients: [
    { ...client, client_id: 'locker' },
    // A client whose ID tokens are signed with HS256 (its own secret): the service must
    // refuse them, its algorithms being pinned.
    { ...client, client_id: 'locker-hs256', id_token_signed_response_alg: 'HS256' },
  ],
  jwks: { keys: [signing] },
  // HS256 offered too (for the client above): the service must still refuse it.
  enabledJWA: { idTokenSigningAlgValues: ['RS256', 'HS256'] },
  cookies: { keys: ['test-cookie-key-not-a-secret'] },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'given_name', 'usual_name', 'siret', 'uid'],
  claims: {
    openid: ['sub'],
    // Returned when asked for by name (claims parameter), as ProConnect does.
    amr: null,
    email: ['email', 'email_verified'],
    given_name: ['given_name'],
    usual_name: ['usual_name'],
    siret: ['siret'],
    uid: ['uid'],
  },
  acrValues: ['eidas1', 'eidas2', 'eidas3', 'https://proconnect.gouv.fr/assurance/self-asserted'],
  features: {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true },
    jwtUserinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = `<!DOCTYPE html><html><body>${form}
          <button type="submit" form="op.logoutForm" name="logout" value="yes">Oui</button>
          </body></html>`;
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const claims = accounts.get(sub);
    if (!claims) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...claims }) };
  },
};

const provider = new Provider(issuer, configuration);

provider.use(async (ctx, nextMiddleware) => {
  if (ctx.path === '/_test/next') {
    const q = ctx.query;
    next = {
      sub: q.sub,
      acr: q.acr || 'eidas1',
      amr: q.amr ? q.amr.split(',') : ['pwd'],
      claims: {
        email: q.email,
        email_verified: q.email_verified !== 'false',
        siret: q.siret,
        given_name: q.given_name || 'Camille',
        usual_name: q.usual_name || 'Martin',
        uid: q.sub,
      },
    };
    accounts.set(next.sub, next.claims);
    ctx.body = { ok: true };
    return;
  }
  if (ctx.path === '/_test/forge') {
    forge = ctx.query.on === '1';
    ctx.body = { forge };
    return;
  }
  const interaction = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (interaction) {
    await interact(ctx);
    return;
  }
  await nextMiddleware();
  if (forge && ctx.path === '/jwks') {
    ctx.body = { keys: [{ ...impostor, kid: signing.kid, use: 'sig', alg: 'RS256' }] };
  }
});

// The login and consent prompts, answered at once: the account is the one set by the test.
async function interact(ctx) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  let result;
  if (details.prompt.name === 'login') {
    if (!next) {
      ctx.status = 409;
      ctx.body = `no test account chosen (GET /_test/next first): ${JSON.stringify(details.prompt)}`;
      return;
    }
    result = { login: { accountId: next.sub, acr: next.acr, amr: next.amr } };
    next = null;
  } else {
    const grant = new provider.Grant({
      accountId: details.session.accountId,
      clientId: details.params.client_id,
    });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    result = { consent: { grantId: await grant.save() } };
  }
  // Merged with the login's result: prompt=login stays answered for the consent's return.
  await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
}

provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
