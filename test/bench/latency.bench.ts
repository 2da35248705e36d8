/**
 * Delivery → push latency on real parts: a message delivered by dovecot-lda to a watched INBOX,
 * until the APNs fake receives the push (and the FCM fake). Prints median, p90 and worst.
 * Run: npm run bench:latency [-- <messages>]
 */
import assert from 'node:assert/strict';
import { eventually } from '../harness';
import { makeApnsToken, makeFcmToken, makeMessage } from '../support/factories';
import { createUser, linkAccount, startPipeline } from '../support/pipeline.fixture';

const LOGIN = { user: 'bench', password: 'bench-password' };

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? NaN;
}

async function main(): Promise<void> {
  const count = Math.min(500, Math.max(1, Number(process.argv[2] ?? 30)));
  // One message a second to the same phones: lift the per-device burst budget (default 5 a minute).
  const p = await startPipeline({ users: [LOGIN], env: { LOG_LEVEL: 'warn', MAILPUSH_BURST_BUDGET: '240' } });
  try {
    const user = await createUser(p.admin);
    const iosToken = makeApnsToken();
    const androidToken = makeFcmToken();
    await user.post('/v1/devices', { platform: 'ios', token: iosToken, environment: 'production' });
    await user.post('/v1/devices', { platform: 'android', token: androidToken });
    await linkAccount(user, p.dovecot, LOGIN);

    const apnsMs: number[] = [];
    const fcmMs: number[] = [];
    process.stdout.write(`delivering ${count} messages one at a time…\n`);
    for (let i = 0; i < count; i += 1) {
      const msg = makeMessage({ subject: `latency ${i}` });
      const { deliveredAt } = await p.dovecot.deliver(LOGIN.user, msg);
      const [apnsReq, fcmReq] = await eventually(
        () => {
          const a = p.apns
            .delivered()
            .find((r) => (r.payload as { aps?: { alert?: { body?: string } } }).aps?.alert?.body === msg.subject);
          const f = p.fcm
            .delivered()
            .find(
              (r) =>
                (r.message as { notification?: { body?: string } } | undefined)?.notification?.body === msg.subject,
            );
          assert.ok(a && f, `message ${i} not pushed yet`);
          return [a, f] as const;
        },
        { timeoutMs: 30_000 },
      );
      apnsMs.push(apnsReq.receivedAt - deliveredAt);
      fcmMs.push(fcmReq.receivedAt - deliveredAt);
      if ((i + 1) % 10 === 0) process.stdout.write(`  ${i + 1}/${count}\n`);
    }
    await p.quiescent();
    const report = (name: string, values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      process.stdout.write(
        `${name.padEnd(5)} n=${sorted.length}  median=${percentile(sorted, 50)} ms  p90=${percentile(sorted, 90)} ms  worst=${sorted.at(-1)} ms  best=${sorted[0]} ms\n`,
      );
    };
    process.stdout.write('\ndovecot-lda delivery → push request received by the fake\n');
    report('APNs', apnsMs);
    report('FCM', fcmMs);
    process.stdout.write(
      `duplicates: APNs ${p.apns.delivered().length - count}, FCM ${p.fcm.delivered().length - count}\n`,
    );
  } finally {
    await p.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
