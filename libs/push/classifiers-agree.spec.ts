import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyImapError } from '@mailpush/errors';
import { classifyApnsFailure } from './apns-error.classifier';
import { classifyFcmError } from './fcm-error.classifier';
import { classifyWebPushError } from './web-push-error.classifier';

const coded = (code: string): Error => Object.assign(new Error('x'), { code });

/** The same socket failure gets the same code from every classifier (one network table). */
describe('IMAP and push classifiers agree on network failures', () => {
  for (const [nodeCode, expected] of [
    ['ENOTFOUND', 'host_not_found'],
    ['ECONNREFUSED', 'connect_failed'],
    ['ECONNRESET', 'connect_failed'],
    ['EAI_AGAIN', 'connect_failed'],
    ['ETIMEDOUT', 'timeout'],
    ['EPROTO', 'tls_failed'],
    ['CERT_HAS_EXPIRED', 'tls_failed'],
  ] as const) {
    it(`${nodeCode} -> ${expected}`, () => {
      assert.equal(classifyImapError(coded(nodeCode)).code, expected, 'imap');
      assert.equal(classifyApnsFailure({ error: coded(nodeCode) }).classified.code, expected, 'apns');
      assert.equal(classifyWebPushError(coded(nodeCode)).classified.code, expected, 'web push');
      const fcm = Object.assign(new Error('x'), { code: 'app/network-error', cause: coded(nodeCode) });
      assert.equal(classifyFcmError(fcm).classified.code, expected, 'fcm');
    });
  }
});
