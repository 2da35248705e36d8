import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ApnsConfig } from '@mailpush/config/app-config';
import { createApnsClient, Http2ApnsClient } from './apns-client';
import { NodeApnProviderClient } from './node-apn.client';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const config = (client: ApnsConfig['client']): ApnsConfig => ({
  keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  keyId: 'KEY1234567',
  teamId: 'TEAM123456',
  topic: 'com.example.mailpush',
  endpoint: { host: '127.0.0.1', port: 9 },
  jwtRefreshMs: 45 * 60_000,
  client,
});

describe('createApnsClient (APNS_CLIENT)', () => {
  it('builds the client the configuration names, for each environment', async () => {
    const tokens = { peek: () => undefined };
    for (const environment of ['sandbox', 'production'] as const) {
      const nodeApn = createApnsClient(config('node-apn'), environment, tokens);
      const http2 = createApnsClient(config('http2'), environment, tokens);
      assert.ok(nodeApn instanceof NodeApnProviderClient);
      assert.ok(http2 instanceof Http2ApnsClient);
      await Promise.all([nodeApn.close(), http2.close()]);
    }
  });
});
