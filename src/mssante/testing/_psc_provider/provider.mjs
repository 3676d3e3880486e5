// A local OpenID provider (node-oidc-provider) for the tests of Pro Santé Connect clients: HTTPS on loopback with
// the test PKI's server certificate, clients with PKCE, client secrets or mutual TLS (tls_client_auth), refresh
// tokens, back-channel authentication (CIBA, poll mode), token revocation and token introspection (RFC 7662, for
// the local operator to check the access tokens it is given).
//
// node provider.mjs CONFIG.json: the configuration the caller writes (see mssante.testing.LocalPscProvider). Once
// listening, one JSON line {"issuer": ...} is written to standard output.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { default: Provider, errors } = await import(
  pathToFileURL(join(config.node_modules, 'oidc-provider', 'lib', 'index.js')).href
);

function signingKey() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'ES256', use: 'sig' };
}

function subjectMatches(certificate, expected) {
  // every RDN of the registered subject ("CN=LPS,O=...") is one of the certificate's
  const rdns = certificate.subject.split('\n');
  return expected.split(',').every((rdn) => rdns.includes(rdn.trim()));
}

const server = createServer({
  cert: readFileSync(config.cert),
  key: readFileSync(config.key),
  ca: readFileSync(config.ca),
  requestCert: true, // a client certificate is asked for, not required: it authenticates tls_client_auth clients
  rejectUnauthorized: false,
  minVersion: 'TLSv1.2',
});

server.listen(0, config.host || '127.0.0.1', () => {
  const issuer = `https://localhost:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomUUID()] },
    pkce: { required: () => true },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'tls_client_auth'],
    scopes: ['openid', 'offline_access'],
    ttl: {
      AccessToken: config.access_token_ttl || 120,
      IdToken: 300,
      RefreshToken: 3600,
      BackchannelAuthenticationRequest: 60,
    },
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
    findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      introspection: {
        enabled: true,
        // a confidential client (the local operator asks as one) may introspect any token; a public one its own
        allowedPolicy: async (ctx, client, token) => client.clientAuthMethod !== 'none'
          || token.clientId === ctx.oidc.client.clientId,
      },
      mTLS: {
        enabled: true,
        tlsClientAuth: true,
        getCertificate: (ctx) => ctx.socket.getPeerX509Certificate?.() || undefined,
        certificateAuthorized: (ctx) => ctx.socket.authorized === true,
        certificateSubjectMatches: (ctx, property, expected) => property === 'tls_client_auth_subject_dn'
          && subjectMatches(ctx.socket.getPeerX509Certificate(), expected),
      },
      ciba: {
        enabled: true,
        deliveryModes: ['poll'],
        processLoginHint: async (ctx, loginHint) => loginHint,
        validateRequestContext: async () => {},
        verifyUserCode: async () => {},
        triggerAuthenticationDevice: async (ctx, request, account, client) => {
          const approve = (config.ciba_approve || []).includes(account.accountId);
          setTimeout(async () => {
            if (!approve) {
              await provider.backchannelResult(request, new errors.AccessDenied('the user refused'));
              return;
            }
            const grant = new provider.Grant({ accountId: account.accountId, clientId: client.clientId });
            grant.addOIDCScope(request.scope);
            await grant.save();
            await provider.backchannelResult(request, grant);
          }, 50);
        },
      },
    },
  });
  provider.proxy = false;
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
