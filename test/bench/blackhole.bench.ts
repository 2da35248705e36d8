/**
 * Black-hole detection with the production defaults (probe after 90 s of silence, 30 s probe
 * timeout, reconnect backoff from 1 s): a proxy between worker and Dovecot stops forwarding without
 * closing anything, and we time how long the worker takes to declare the connection dead, to
 * replace it, and to push the message that arrived meanwhile. Takes about 2.5 minutes.
 * Run: npm run bench:blackhole [-- <accounts, default 3>]
 */
import assert from 'node:assert/strict';
import { eventually, startFaultProxy, type FaultProxy } from '../harness';
import { makeApnsToken, makeMessage } from '../support/factories';
import { createUser, startPipeline } from '../support/pipeline.fixture';

const PASSWORD = 'bench-blackhole-pw';
const WAIT_MS = 5 * 60_000;

interface Sample {
  deadS: number;
  replacedS: number;
  idleS: number;
  pushedS: number;
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

async function main(): Promise<void> {
  const count = Math.min(10, Math.max(1, Number(process.argv[2] ?? 3)));
  const logins = Array.from({ length: count }, (_, i) => ({ user: `hole${i}`, password: PASSWORD }));
  // Only the pipeline's own test settings (lease TTL); every IMAP watching setting is the default.
  const p = await startPipeline({ users: logins, env: { LOG_LEVEL: 'warn' } });
  const proxies: FaultProxy[] = [];
  try {
    const runs = await Promise.all(
      logins.map(async (login) => {
        const proxy = await startFaultProxy({ targetPort: p.dovecot.port });
        proxies.push(proxy);
        const user = await createUser(p.admin);
        const token = makeApnsToken();
        await user.post('/v1/devices', { platform: 'ios', token, environment: 'production' });
        const created = await user.post<{ id: string }>('/v1/accounts', {
          email: `${login.user}@example.test`,
          imap: { host: proxy.host, port: proxy.port, tls: true },
          auth: { type: 'password', username: login.user, password: login.password },
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const status = async () => (await user.get<{ status: string }>(`/v1/accounts/${created.body.id}`)).body.status;
        await eventually(async () => assert.equal(await status(), 'idle'), { timeoutMs: 30_000 });
        const pushed = (subject: string) =>
          p.apns
            .delivered()
            .find(
              (r) =>
                r.token === token &&
                (r.payload as { aps?: { alert?: { body?: string } } }).aps?.alert?.body === subject,
            );
        const warmup = makeMessage({ subject: `${login.user} warm-up` });
        await p.dovecot.deliver(login.user, warmup);
        await eventually(() => assert.ok(pushed(warmup.subject)), { timeoutMs: 30_000 });

        // The worst case: the server's last byte has just arrived, the silence starts now.
        const [victim] = proxy.open();
        assert.ok(victim);
        const holedAt = Date.now();
        proxy.blackhole();
        process.stdout.write(
          `${login.user}: black hole started; waiting for the worker to notice (default settings: up to ~2.5 min)…\n`,
        );
        const during = makeMessage({ subject: `${login.user} during the black hole` });
        await p.dovecot.deliver(login.user, during);
        const dead = await eventually(
          () => {
            const c = proxy.connections().find((x) => x.id === victim.id);
            assert.ok(c?.clientClosedAt, 'still holding the black-holed connection');
            return c.clientClosedAt;
          },
          { timeoutMs: WAIT_MS, intervalMs: 100 },
        );
        const replaced = await eventually(
          () => {
            const c = proxy.connections().find((x) => x.id > victim.id);
            assert.ok(c, 'no replacement yet');
            return c.openedAt;
          },
          { timeoutMs: 60_000, intervalMs: 100 },
        );
        const idleAt = await eventually(
          async () => {
            assert.equal(await status(), 'idle');
            return Date.now();
          },
          { timeoutMs: 60_000, intervalMs: 100 },
        );
        const push = await eventually(
          () => {
            const r = pushed(during.subject);
            assert.ok(r);
            return r.receivedAt;
          },
          { timeoutMs: 60_000, intervalMs: 100 },
        );
        const sample: Sample = {
          deadS: seconds(dead - holedAt),
          replacedS: seconds(replaced - holedAt),
          idleS: seconds(idleAt - holedAt),
          pushedS: seconds(push - holedAt),
        };
        process.stdout.write(`${login.user}: ${JSON.stringify(sample)}\n`);
        return sample;
      }),
    );
    await p.quiescent();
    const worst = (k: keyof Sample) => Math.max(...runs.map((r) => r[k]));
    const best = (k: keyof Sample) => Math.min(...runs.map((r) => r[k]));
    process.stdout.write(
      '\nblack hole with default settings (probe after 90 s silence, 30 s probe timeout), seconds from the black hole:\n',
    );
    for (const [k, label] of [
      ['deadS', 'declared dead (worker closed it)'],
      ['replacedS', 'new connection opened'],
      ['idleS', 'status idle again'],
      ['pushedS', 'message sent during the hole pushed'],
    ] as const) {
      process.stdout.write(`  ${label.padEnd(38)} best ${best(k)} s   worst ${worst(k)} s   (n=${runs.length})\n`);
    }
    const duplicates = p.apns.delivered().length - 2 * count;
    process.stdout.write(`duplicate pushes: ${duplicates}\n`);
  } finally {
    await Promise.all(proxies.map((x) => x.close()));
    await p.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
