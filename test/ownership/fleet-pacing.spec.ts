import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { FleetConnectPacer } from '../../apps/worker/src/fleet-connect-pacer';
import { ConnectPacer } from '@mailpush/imap';
import { startRedis, type RedisHandle } from '../harness';

const FLEET_RATE = 20;
const WORKERS = 4;
const CONNECTS_PER_WORKER = 20;

/** Connects to one provider host are paced across every worker together, through Redis. */
describe('fleet-wide connect pacing', { timeout: 60_000 }, () => {
  let redis: RedisHandle;
  const clients: Redis[] = [];

  before(async () => {
    redis = await startRedis();
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    await redis?.stop();
  });

  function worker(): FleetConnectPacer {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    clients.push(client);
    // Each worker's own buckets would allow 100/s to the host: only the fleet bucket limits here.
    return new FleetConnectPacer(new ConnectPacer({ perWorker: 100, perHost: 100 }), client, FLEET_RATE);
  }

  it('adding workers does not multiply the login rate one host sees', async () => {
    const pacers = Array.from({ length: WORKERS }, () => worker());
    const started = Date.now();
    const grants: number[] = [];
    await Promise.all(
      pacers.flatMap((pacer) =>
        Array.from({ length: CONNECTS_PER_WORKER }, async () => {
          assert.equal(await pacer.acquire('imap.example.test'), true);
          grants.push(Date.now() - started);
        }),
      ),
    );
    const total = WORKERS * CONNECTS_PER_WORKER;
    assert.equal(grants.length, total);
    // A full bucket (one second's worth) at once, then the fleet rate: ≥ (80 - 20) / 20 s = 3 s.
    const last = Math.max(...grants);
    assert.ok(last >= ((total - FLEET_RATE) / FLEET_RATE) * 1000 * 0.9, `all ${total} granted after ${last} ms`);
    grants.sort((a, b) => a - b);
    for (let i = 0; i < grants.length; i++) {
      const inWindow = grants.filter((g) => g >= grants[i]! && g < grants[i]! + 1000).length;
      assert.ok(inWindow <= 2 * FLEET_RATE + 1, `${inWindow} connects within one second from ${grants[i]} ms`);
    }
    // Another host has a bucket of its own.
    const t0 = Date.now();
    assert.equal(await pacers[0]!.acquire('imap.other.test'), true);
    assert.ok(Date.now() - t0 < 500);
  });

  it('paces by the worker alone when Redis cannot be reached', async () => {
    const client = new Redis(1, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    client.on('error', () => undefined);
    const pacer = new FleetConnectPacer(new ConnectPacer({ perWorker: 100, perHost: 100 }), client, 1);
    const results = await Promise.all(Array.from({ length: 5 }, () => pacer.acquire('imap.example.test')));
    assert.deepEqual(results, [true, true, true, true, true]);
    const aborted = new AbortController();
    aborted.abort();
    assert.equal(await pacer.acquire('imap.example.test', aborted.signal), false);
  });
});
