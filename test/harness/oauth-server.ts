import { createHash, generateKeyPairSync, randomBytes, sign, timingSafeEqual, type KeyObject } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { listenOnLoopback } from '../fakes/fake-util';
import { issueServerCert } from './test-ca';

/**
 * A strict local OAuth2 / OpenID Connect authorization server for tests: authorization code with
 * PKCE (S256 only), client secret (Basic or POST), exact redirect URI, refresh with rotation,
 * revocation (RFC 7009), introspection (RFC 7662, for Dovecot's oauth2 passdb), an RS256 ID token
 * with `email`, and RFC 6749 error bodies. The client-facing endpoints are HTTPS with the test CA;
 * introspection is plain HTTP on loopback (Dovecot's side).
 */
export interface OAuthServerOptions {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** The mailbox address of the approving user (the ID token's `email`); see OAuthServer.userEmail. */
  userEmail: string;
  /** Scopes a request must include (all of them). */
  requiredScopes: string[];
  accessTokenTtlS?: number;
}

export type AuthorizeDecision = 'approve' | 'deny';

export interface OAuthServer {
  /** `https://127.0.0.1:<port>`: issuer, and base of /authorize, /token, /revoke, /userinfo. */
  issuer: string;
  /** `http://127.0.0.1:<port>/introspect`, for Dovecot. */
  introspectionUrl: string;
  /** What /authorize does with the next requests. */
  decision: AuthorizeDecision;
  /** Who approves at /authorize: the ID token's `email` and what introspection answers (changeable). */
  userEmail: string;
  accessTokenTtlS: number;
  /** Grant-type counts of successful token responses. */
  issued: { authorization_code: number; refresh_token: number };
  /** Every token request's grant type and the error it got (or 'ok'). */
  tokenRequests: { grantType: string; outcome: string }[];
  /** Parameters of every /authorize request. */
  authorizeRequests: URLSearchParams[];
  /** Active (live, unrevoked) refresh tokens. */
  activeRefreshTokens(): number;
  /** Every refresh and access token ever issued (for "never stored or logged in clear" checks). */
  issuedTokens(): string[];
  /** Revokes every grant of the user, as a person removing the app in their account settings would. */
  revokeAll(): void;
  /** Revokes grants and makes refresh answer with 500 server_error (a provider outage) while true. */
  outage: boolean;
  close(): Promise<void>;
}

interface CodeRecord {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce?: string;
  scope: string;
  expiresAt: number;
  used: boolean;
  grantId: string;
}

interface Grant {
  id: string;
  /** The user who approved it. */
  email: string;
  revoked: boolean;
  scope: string;
  /** The current refresh token; rotated ones are remembered to catch reuse. */
  refreshToken: string;
  spent: Set<string>;
}

const CODE_TTL_MS = 60_000;
const MAX_BODY = 16 * 1024;

function oauthError(res: ServerResponse, status: number, error: string, description: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ error, error_description: description }));
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  if (!/^application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '')) return undefined;
  let body = '';
  for await (const chunk of req) {
    body += (chunk as Buffer).toString('utf8');
    if (body.length > MAX_BODY) return undefined;
  }
  return new URLSearchParams(body);
}

function same(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

function idToken(key: KeyObject, claims: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'test' }));
  const payload = b64url(JSON.stringify(claims));
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), key).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

export async function startOAuthServer(opts: OAuthServerOptions): Promise<OAuthServer> {
  const cert = issueServerCert(['localhost', '127.0.0.1', `oauth-${process.pid}.mailpush.test`]);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const codes = new Map<string, CodeRecord>();
  const grants = new Map<string, Grant>();
  const refreshIndex = new Map<string, Grant>();
  const accessTokens = new Map<string, { grantId: string; expiresAt: number }>();
  let issuer = '';

  const state: Omit<OAuthServer, 'close' | 'issuer' | 'introspectionUrl'> = {
    decision: 'approve',
    userEmail: opts.userEmail,
    accessTokenTtlS: opts.accessTokenTtlS ?? 3600,
    issued: { authorization_code: 0, refresh_token: 0 },
    tokenRequests: [],
    authorizeRequests: [],
    outage: false,
    activeRefreshTokens: () => [...grants.values()].filter((g) => !g.revoked).length,
    issuedTokens: () => [...refreshIndex.keys(), ...accessTokens.keys()],
    revokeAll: () => {
      for (const g of grants.values()) g.revoked = true;
    },
  };

  const issueAccess = (grant: Grant): { token: string; expiresIn: number } => {
    const token = `at_${randomBytes(24).toString('base64url')}`;
    accessTokens.set(token, { grantId: grant.id, expiresAt: Date.now() + state.accessTokenTtlS * 1000 });
    return { token, expiresIn: state.accessTokenTtlS };
  };

  const clientOf = (req: IncomingMessage, form: URLSearchParams): boolean => {
    const header = req.headers.authorization;
    let id = form.get('client_id');
    let secret = form.get('client_secret');
    if (header?.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const sep = decoded.indexOf(':');
      id = decodeURIComponent(decoded.slice(0, sep));
      secret = decodeURIComponent(decoded.slice(sep + 1));
    }
    return id === opts.clientId && secret !== null && same(secret, opts.clientSecret);
  };

  const token = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const form = await readForm(req);
    const grantType = form?.get('grant_type') ?? '';
    const record = (outcome: string) => state.tokenRequests.push({ grantType, outcome });
    if (!form) {
      record('invalid_request');
      return oauthError(res, 400, 'invalid_request', 'form body required');
    }
    if (!clientOf(req, form)) {
      record('invalid_client');
      return oauthError(res, 401, 'invalid_client', 'client authentication failed');
    }
    if (grantType === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (!code || code.used || code.expiresAt < Date.now()) {
        if (code) grants.get(code.grantId)!.revoked = true; // RFC 6749 4.1.2: a reused code revokes its tokens
        record('invalid_grant');
        return oauthError(res, 400, 'invalid_grant', 'authorization code unknown, used or expired');
      }
      code.used = true;
      if (form.get('redirect_uri') !== code.redirectUri) {
        record('invalid_grant');
        return oauthError(res, 400, 'invalid_grant', 'redirect_uri does not match');
      }
      if (
        !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) ||
        b64url(createHash('sha256').update(verifier).digest()) !== code.challenge
      ) {
        record('invalid_grant');
        return oauthError(res, 400, 'invalid_grant', 'PKCE verification failed');
      }
      const grant = grants.get(code.grantId)!;
      const access = issueAccess(grant);
      state.issued.authorization_code++;
      record('ok');
      const now = Math.floor(Date.now() / 1000);
      return json(res, {
        access_token: access.token,
        token_type: 'Bearer',
        expires_in: access.expiresIn,
        refresh_token: grant.refreshToken,
        scope: code.scope,
        id_token: idToken(privateKey, {
          iss: issuer,
          sub: 'test-user-1',
          aud: opts.clientId,
          iat: now,
          exp: now + 600,
          email: grant.email,
          email_verified: true,
          ...(code.nonce ? { nonce: code.nonce } : {}),
        }),
      });
    }
    if (grantType === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      if (state.outage) {
        record('server_error');
        return oauthError(res, 500, 'server_error', 'temporarily unavailable');
      }
      const grant = refreshIndex.get(presented);
      if (!grant || grant.revoked) {
        record('invalid_grant');
        return oauthError(res, 400, 'invalid_grant', 'refresh token revoked or unknown');
      }
      if (grant.spent.has(presented)) {
        // Reuse of a rotated refresh token: the grant is compromised (OAuth 2.0 Security BCP 4.14.2).
        grant.revoked = true;
        record('invalid_grant_reuse');
        return oauthError(res, 400, 'invalid_grant', 'refresh token reused');
      }
      grant.spent.add(presented);
      grant.refreshToken = `rt_${randomBytes(24).toString('base64url')}`;
      refreshIndex.set(grant.refreshToken, grant);
      const access = issueAccess(grant);
      state.issued.refresh_token++;
      record('ok');
      return json(res, {
        access_token: access.token,
        token_type: 'Bearer',
        expires_in: access.expiresIn,
        refresh_token: grant.refreshToken,
        scope: grant.scope,
      });
    }
    record('unsupported_grant_type');
    return oauthError(res, 400, 'unsupported_grant_type', 'grant type not supported');
  };

  const authorize = (url: URL, res: ServerResponse): void => {
    const q = url.searchParams;
    state.authorizeRequests.push(q);
    // Errors about the client or the redirect URI are shown to the user, never redirected (RFC 6749 4.1.2.1).
    if (q.get('client_id') !== opts.clientId || q.get('redirect_uri') !== opts.redirectUri) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('unknown client or redirect_uri');
      return;
    }
    const back = new URL(opts.redirectUri);
    const stateParam = q.get('state');
    if (stateParam) back.searchParams.set('state', stateParam);
    const scopes = (q.get('scope') ?? '').split(' ');
    let error: string | undefined;
    if (q.get('response_type') !== 'code') error = 'unsupported_response_type';
    else if (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? ''))
      error = 'invalid_request';
    else if (!opts.requiredScopes.every((s) => scopes.includes(s))) error = 'invalid_scope';
    else if (state.decision === 'deny') error = 'access_denied';
    if (error) {
      back.searchParams.set('error', error);
    } else {
      const grant: Grant = {
        id: randomBytes(8).toString('hex'),
        email: state.userEmail,
        revoked: false,
        scope: scopes.join(' '),
        refreshToken: `rt_${randomBytes(24).toString('base64url')}`,
        spent: new Set(),
      };
      grants.set(grant.id, grant);
      refreshIndex.set(grant.refreshToken, grant);
      const code = `code_${randomBytes(24).toString('base64url')}`;
      const nonce = q.get('nonce');
      codes.set(code, {
        clientId: opts.clientId,
        redirectUri: opts.redirectUri,
        challenge: q.get('code_challenge')!,
        ...(nonce ? { nonce } : {}),
        scope: grant.scope,
        expiresAt: Date.now() + CODE_TTL_MS,
        used: false,
        grantId: grant.id,
      });
      back.searchParams.set('code', code);
    }
    res.writeHead(302, { location: back.toString() });
    res.end();
  };

  const revoke = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const form = await readForm(req);
    if (!form) return oauthError(res, 400, 'invalid_request', 'form body required');
    if (!clientOf(req, form)) return oauthError(res, 401, 'invalid_client', 'client authentication failed');
    const presented = form.get('token') ?? '';
    const grant = refreshIndex.get(presented) ?? grants.get(accessTokens.get(presented)?.grantId ?? '');
    if (grant) grant.revoked = true;
    res.writeHead(200);
    res.end();
  };

  const grantOf = (tokenValue: string): Grant | undefined => grants.get(accessTokens.get(tokenValue)?.grantId ?? '');

  const activeAccess = (tokenValue: string): boolean => {
    const t = accessTokens.get(tokenValue);
    return t !== undefined && t.expiresAt > Date.now() && grants.get(t.grantId)?.revoked === false;
  };

  const https = createHttpsServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    const url = new URL(req.url ?? '/', issuer || 'https://127.0.0.1');
    const route = `${req.method} ${url.pathname}`;
    const handle = async (): Promise<void> => {
      if (route === 'GET /authorize') return authorize(url, res);
      if (route === 'POST /token') return token(req, res);
      if (route === 'POST /revoke') return revoke(req, res);
      if (route === 'GET /userinfo') {
        const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
        if (!activeAccess(bearer)) {
          res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
          return void res.end();
        }
        return json(res, { sub: 'test-user-1', email: grantOf(bearer)?.email, email_verified: true });
      }
      res.writeHead(404);
      res.end();
    };
    handle().catch(() => {
      if (!res.headersSent) oauthError(res, 500, 'server_error', 'internal error');
    });
  });

  // Dovecot's oauth2 passdb POSTs `token=…` and reads `active` and the username attribute.
  const introspection: Server = createHttpServer((req, res) => {
    void (async () => {
      const form = req.method === 'POST' ? await readForm(req) : undefined;
      const presented = form?.get('token') ?? '';
      json(
        res,
        activeAccess(presented) ? { active: true, email: grantOf(presented)?.email, scope: 'mail' } : { active: false },
      );
    })();
  });

  const [httpsPort, introspectionPort] = await Promise.all([listenOnLoopback(https), listenOnLoopback(introspection)]);
  issuer = `https://127.0.0.1:${httpsPort}`;
  const server = Object.assign(state, {
    issuer,
    introspectionUrl: `http://127.0.0.1:${introspectionPort}/introspect`,
    close: async () => {
      https.closeAllConnections();
      introspection.closeAllConnections();
      await Promise.all([
        new Promise<void>((resolve) => https.close(() => resolve())),
        new Promise<void>((resolve) => introspection.close(() => resolve())),
      ]);
    },
  });
  return server;
}
