import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadConfig } from './app-config';

const base = () => ({
  MAILPUSH_MASTER_KEY: `v1:${randomBytes(32).toString('base64')}`,
  MAILPUSH_ADMIN_TOKEN: 'a'.repeat(24),
});

describe('IMAP watching configuration', () => {
  it('defaults to the production values documented in docs/configuration.md', () => {
    const { imap } = loadConfig(base());
    assert.deepEqual(imap, {
      connectTimeoutMs: 15_000,
      socketTimeoutMs: 150_000,
      reIdleMs: 540_000,
      probeAfterMs: 90_000,
      probeTimeoutMs: 30_000,
      pollIntervalMs: 60_000,
      reconnect: { baseMs: 1_000, maxMs: 300_000 },
      catchUpSummaryThreshold: 5,
      pacing: { perWorker: 50, perHost: 10, perHostFleet: 20 },
    });
  });

  it('accepts the fast values tests use', () => {
    const { imap } = loadConfig({
      ...base(),
      MAILPUSH_IMAP_PROBE_AFTER_MS: '800',
      MAILPUSH_IMAP_PROBE_TIMEOUT_MS: '800',
      MAILPUSH_IMAP_POLL_INTERVAL_MS: '400',
      MAILPUSH_RECONNECT_BASE_MS: '100',
      MAILPUSH_RECONNECT_MAX_MS: '800',
      MAILPUSH_CONNECT_RATE_PER_HOST: '0.5',
    });
    assert.equal(imap.probeAfterMs, 800);
    assert.equal(imap.pacing.perHost, 0.5);
  });

  it('keeps the socket timeout a backstop behind the probe and the poll interval', () => {
    assert.throws(
      () => loadConfig({ ...base(), MAILPUSH_IMAP_PROBE_AFTER_MS: '130000' }),
      /MAILPUSH_IMAP_SOCKET_TIMEOUT_MS/,
    );
    assert.throws(
      () => loadConfig({ ...base(), MAILPUSH_IMAP_POLL_INTERVAL_MS: '600000' }),
      /MAILPUSH_IMAP_POLL_INTERVAL_MS/,
    );
    assert.throws(() => loadConfig({ ...base(), MAILPUSH_RECONNECT_MAX_MS: '10' }), /MAILPUSH_RECONNECT_MAX_MS/);
    assert.throws(
      () => loadConfig({ ...base(), MAILPUSH_CONNECT_RATE_PER_WORKER: '0' }),
      /MAILPUSH_CONNECT_RATE_PER_WORKER/,
    );
  });
});
