import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '@mailpush/config';
import { parseProvidersFile } from './provider-file.schema';
import { ProviderRegistry } from './provider-registry';

const base = () => ({
  MAILPUSH_MASTER_KEY: `v1:${randomBytes(32).toString('base64')}`,
  MAILPUSH_ADMIN_TOKEN: 'a'.repeat(24),
});

function providersFile(body: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mailpush-providers-')), 'providers.json');
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
  return path;
}

const companyEntry = {
  id: 'acme',
  name: 'ACME mail',
  imap: { host: 'imap.acme.test', port: 993, tls: true },
  oauth: {
    authorizeUrl: 'https://sso.acme.test/realms/mail/protocol/openid-connect/auth',
    tokenUrl: 'https://sso.acme.test/realms/mail/protocol/openid-connect/token',
    clientId: 'mailpush',
    clientSecret: 'acme-client-secret-value',
    scopes: ['openid', 'email', 'offline_access'],
    issuer: 'https://sso.acme.test/realms/mail',
  },
};

function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

describe('provider registry', () => {
  it('lists every built-in preset, with sign-in off until client credentials are configured', () => {
    const registry = new ProviderRegistry(loadConfig(base()));
    assert.deepEqual(
      registry.listPublic().map((p) => p.id),
      ['gmail', 'outlook', 'yahoo', 'icloud', 'fastmail', 'aol', 'other'],
    );
    assert.ok(registry.listPublic().every((p) => p.oauth === false));
    assert.deepEqual(registry.find('gmail')?.imap, { host: 'imap.gmail.com', port: 993, tls: true });
    assert.equal(registry.oauth('gmail'), undefined);
  });

  it('turns a provider on with its credentials, puts the tenant in Microsoft URLs, and never shows secrets', () => {
    const config = loadConfig({
      ...base(),
      PUBLIC_URL: 'https://push.example.com/',
      OAUTH_GOOGLE_CLIENT_ID: 'google-id.apps.googleusercontent.com',
      OAUTH_GOOGLE_CLIENT_SECRET: 'google-secret-value',
      OAUTH_MICROSOFT_CLIENT_ID: '00000000-1111-2222-3333-444444444444',
      OAUTH_MICROSOFT_CLIENT_SECRET: 'microsoft-secret-value',
      OAUTH_MICROSOFT_TENANT: 'organizations',
    });
    const registry = new ProviderRegistry(config);
    assert.equal(config.oauthRedirectUri, 'https://push.example.com/v1/oauth/callback');
    const pub = Object.fromEntries(registry.listPublic().map((p) => [p.id, p.oauth]));
    assert.deepEqual(pub, {
      gmail: true,
      outlook: true,
      yahoo: false,
      icloud: false,
      fastmail: false,
      aol: false,
      other: false,
    });
    const google = registry.oauth('gmail')!.client;
    assert.ok(google.scopes.includes('https://mail.google.com/'));
    assert.deepEqual(google.extraParams, { access_type: 'offline', prompt: 'consent' });
    const ms = registry.oauth('outlook')!.client;
    assert.equal(ms.authorizeUrl, 'https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize');
    assert.equal(ms.tokenUrl, 'https://login.microsoftonline.com/organizations/oauth2/v2.0/token');
    assert.deepEqual(ms.scopes, [
      'https://outlook.office.com/IMAP.AccessAsUser.All',
      'offline_access',
      'openid',
      'email',
    ]);
    const shown = JSON.stringify(registry.listPublic());
    assert.ok(!shown.includes('secret-value') && !shown.includes('google-id'), 'no client id or secret in the list');
  });

  it('replaces a preset and adds a company server from MAILPUSH_PROVIDERS_FILE', () => {
    const file = providersFile({
      providers: [
        companyEntry,
        { ...companyEntry, id: 'gmail', name: 'Gmail (local)', imap: { host: '127.0.0.1', port: 1993, tls: true } },
      ],
    });
    const registry = new ProviderRegistry(
      loadConfig({ ...base(), PUBLIC_URL: 'http://127.0.0.1:8080', MAILPUSH_PROVIDERS_FILE: file }),
    );
    const ids = registry.list().map((p) => p.id);
    assert.deepEqual(ids, ['gmail', 'outlook', 'yahoo', 'icloud', 'fastmail', 'aol', 'other', 'acme']);
    const gmail = registry.find('gmail')!;
    assert.equal(gmail.name, 'Gmail (local)');
    assert.equal(gmail.source, 'file');
    assert.equal(gmail.oauth?.tokenUrl, companyEntry.oauth.tokenUrl);
    assert.deepEqual(gmail.oauth?.issuers, ['https://sso.acme.test/realms/mail']);
    assert.equal(gmail.oauth?.tokenEndpointAuth, 'client_secret_post');
    assert.equal(registry.find('acme')?.oauth?.clientId, 'mailpush');
  });

  it('stops the process on a bad file, listing every problem without quoting secrets', () => {
    const file = providersFile({
      providers: [
        {
          ...companyEntry,
          oauth: {
            ...companyEntry.oauth,
            tokenUrl: 'http://sso.acme.test/token',
            scopes: ['openid'],
            issuer: undefined,
            extraParams: { redirect_uri: 'https://evil.test/' },
          },
        },
        { id: 'Bad Id', name: '', imap: { host: 'not a host' } },
        { ...companyEntry, unknown: true },
      ],
    });
    const problems = configProblems({
      ...base(),
      PUBLIC_URL: 'https://push.example.com',
      MAILPUSH_PROVIDERS_FILE: file,
    });
    const text = problems.join('\n');
    for (const expected of [
      /providers\.0\.oauth\.tokenUrl: must be an https URL/,
      /providers\.0\.oauth\.extraParams\.redirect_uri: is set by the flow itself/,
      /providers\.0\.oauth\.issuer: is required with the openid scope/,
      /providers\.1\.id: must be 1-32 lower-case/,
      /providers\.1\.name/,
      /providers\.1\.imap\.host/,
      /providers\.2: Unrecognized key/,
    ]) {
      assert.match(text, expected);
    }
    assert.ok(problems.every((p) => p.startsWith('MAILPUSH_PROVIDERS_FILE: ')));
    assert.ok(!text.includes('acme-client-secret-value'));
  });

  it('refuses duplicate ids, non-JSON and unreadable files', () => {
    assert.deepEqual(parseProvidersFile(JSON.stringify({ providers: [companyEntry, companyEntry] })).problems, [
      'providers.1.id: "acme" is listed twice',
    ]);
    assert.deepEqual(parseProvidersFile('{not json').problems, ['not valid JSON']);
    assert.match(
      configProblems({ ...base(), MAILPUSH_PROVIDERS_FILE: '/nonexistent/providers.json' }).join('\n'),
      /MAILPUSH_PROVIDERS_FILE: cannot read \/nonexistent\/providers\.json \(ENOENT\)/,
    );
  });

  it('needs PUBLIC_URL for the redirect URI, and both halves of a client', () => {
    const text = configProblems({
      ...base(),
      OAUTH_YAHOO_CLIENT_ID: 'yahoo-id',
      OAUTH_YAHOO_CLIENT_SECRET: 'yahoo-secret-value',
      OAUTH_GOOGLE_CLIENT_ID: 'only-the-id',
    }).join('\n');
    assert.match(text, /OAUTH_GOOGLE_CLIENT_ID: sign-in needs both/);
    assert.ok(!text.includes('yahoo-secret-value'));
    const missingUrl = configProblems({
      ...base(),
      OAUTH_YAHOO_CLIENT_ID: 'yahoo-id',
      OAUTH_YAHOO_CLIENT_SECRET: 'yahoo-secret-value',
    });
    assert.match(missingUrl.join('\n'), /PUBLIC_URL: required when a provider has sign-in on \(yahoo\)/);
  });
});
