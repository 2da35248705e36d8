import assert from 'node:assert/strict';
import { createECDH, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  EndpointNotAllowedError,
  assertPublicEndpoint,
  literalHostAllowed,
  subscriptionProblem,
} from './web-push-endpoint';

const keys = () => ({
  p256dh: createECDH('prime256v1').generateKeys().toString('base64url'),
  auth: randomBytes(16).toString('base64url'),
});

describe('Web Push endpoints', () => {
  it('accepts a well-formed subscription and names what is wrong with others', () => {
    assert.equal(subscriptionProblem({ endpoint: 'https://fcm.googleapis.com/fcm/send/abc', keys: keys() }), undefined);
    assert.match(subscriptionProblem({ endpoint: 'http://push.example/x', keys: keys() }) ?? '', /https/);
    assert.match(
      subscriptionProblem({ endpoint: `https://push.example/${'a'.repeat(2048)}`, keys: keys() }) ?? '',
      /longer/,
    );
    assert.match(
      subscriptionProblem({ endpoint: 'https://user:pw@push.example/x', keys: keys() }) ?? '',
      /credentials/,
    );
    assert.match(
      subscriptionProblem({ endpoint: 'https://push.example/x', keys: { ...keys(), auth: 'AAAA' } }) ?? '',
      /auth/,
    );
    assert.match(
      subscriptionProblem({ endpoint: 'https://push.example/x', keys: { ...keys(), p256dh: 'AAAA' } }) ?? '',
      /p256dh/,
    );
  });

  it('refuses loopback, private and link-local endpoints unless allowed', async () => {
    for (const endpoint of [
      'https://127.0.0.1/x',
      'https://10.1.2.3/x',
      'https://[::1]/x',
      'https://169.254.169.254/latest',
      'https://localhost:8443/x',
    ]) {
      await assert.rejects(assertPublicEndpoint(endpoint, false), EndpointNotAllowedError, endpoint);
      await assertPublicEndpoint(endpoint, true);
    }
    await assertPublicEndpoint('https://8.8.8.8/x', false);
    assert.equal(literalHostAllowed('https://192.168.1.1/x', false), false);
    assert.equal(literalHostAllowed('https://push.example/x', false), true, 'names are checked when they resolve');
  });
});
