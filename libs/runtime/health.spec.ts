import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { HealthCheck, OPS_PATHS } from './health';
import { startOpsServer } from './ops-server';

/** Stands in for the Redis client's PING, the only call a health check makes. */
const redisAnswering = (reply: () => Promise<string>) => ({ ping: reply });
const pong = redisAnswering(async () => 'PONG');

describe('HealthCheck', () => {
  it('is live whatever Redis does', () => {
    const down = new HealthCheck(redisAnswering(() => Promise.reject(new Error('ECONNREFUSED'))));
    assert.deepEqual(down.live(), { status: 'ok' });
  });

  it('is ready when Redis answers PONG and the role is ready', async () => {
    assert.equal(await new HealthCheck(pong).ready(), true);
    assert.equal(await new HealthCheck(pong, () => true).ready(), true);
  });

  it('is not ready while the role says so, even with Redis up', async () => {
    assert.equal(await new HealthCheck(pong, () => false).ready(), false);
  });

  it('is not ready when the role check throws', async () => {
    const broken = () => {
      throw new Error('supervisor gone');
    };
    assert.equal(await new HealthCheck(pong, broken).ready(), false);
  });

  it('is not ready when PING fails, or does not answer in time', async () => {
    assert.equal(await new HealthCheck(redisAnswering(() => Promise.reject(new Error('down')))).ready(), false);
    const silent = redisAnswering(() => new Promise<string>(() => undefined));
    const started = Date.now();
    assert.equal(await new HealthCheck(silent, () => true, 50).ready(), false);
    assert.ok(Date.now() - started < 900, 'the probe waited past its own timeout');
  });
});

describe('the ops server', () => {
  async function startOpsServerOnFreePort(health: HealthCheck) {
    // Port 0 means "off" to startOpsServer, so take a free port from the OS first.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    assert.ok(address !== null && typeof address === 'object');
    const { port } = address;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const server = await startOpsServer(port, '127.0.0.1', health);
    assert.ok(server);
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    };
    return { get, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  it('answers the probes and metrics, and 404 elsewhere', async () => {
    const ops = await startOpsServerOnFreePort(new HealthCheck(pong));
    try {
      assert.deepEqual(await ops.get(OPS_PATHS.health), {
        status: 200,
        type: 'application/json',
        text: '{"status":"ok"}',
      });
      assert.deepEqual(await ops.get(OPS_PATHS.ready), {
        status: 200,
        type: 'application/json',
        text: '{"status":"ready"}',
      });
      const metrics = await ops.get(OPS_PATHS.metrics);
      assert.equal(metrics.status, 200);
      assert.match(metrics.type ?? '', /^text\/plain/);
      assert.equal((await ops.get('/v1/users')).status, 404);
    } finally {
      await ops.close();
    }
  });

  it('answers 503 not_ready while the role is not ready, and stays live', async () => {
    const ops = await startOpsServerOnFreePort(new HealthCheck(pong, () => false));
    try {
      assert.deepEqual(await ops.get(OPS_PATHS.ready), {
        status: 503,
        type: 'application/json',
        text: '{"status":"not_ready"}',
      });
      assert.equal((await ops.get(OPS_PATHS.health)).status, 200);
    } finally {
      await ops.close();
    }
  });

  it('port 0 turns it off', async () => {
    assert.equal(await startOpsServer(0, '127.0.0.1', new HealthCheck(pong)), undefined);
  });
});
