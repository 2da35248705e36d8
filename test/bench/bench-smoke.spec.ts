import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setProgressSink } from './bench-progress';
import { parseOptions, runBench } from './bench.cli';
import type { RowName, RowResult } from './bench-report';

/**
 * The bench's plumbing at toy sizes (a few mailboxes, a few pushes): every row runs against real
 * Redis, Dovecot, worker and dispatcher processes and the fakes, and reports both sides of each
 * figure. The figures themselves mean nothing at this size.
 */
describe('npm run bench (smoke)', () => {
  it('runs every row and reports mailpush beside its floor', { timeout: 280_000 }, async () => {
    const progress: string[] = [];
    setProgressSink((line) => progress.push(line));
    const options = parseOptions([
      '--mailboxes=4',
      '--observed=3',
      '--rate=10',
      '--seconds=1',
      '--push-users=2',
      '--push-devices=2',
      '--push-messages=2',
      '--failover-mailboxes=4',
      '--connect-rate=50',
      '--lease-ttl-ms=2000',
      '--settle-ms=0',
    ]);
    // About 20 s alone; far longer while the rest of the suite shares the machine.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`bench smoke run still going:\n${progress.join('\n')}`)), 240_000);
    });
    const report = await Promise.race([runBench(options), deadline]).finally(() => clearTimeout(timer));
    assert.deepEqual(report.errors, [], progress.join('\n'));
    const row = (name: RowName): RowResult => {
      const r = report.rows.find((x) => x.row === name);
      assert.ok(r, `no ${name} row`);
      for (const f of r.figures) assert.ok(Number.isFinite(f.mailpush), `${name}: ${f.measure} = ${f.mailpush}`);
      return r;
    };

    const density = row('density').details as {
      perMailbox: Record<'worker' | 'imapflow' | 'raw', { heapKb: number }>;
    };
    for (const who of ['worker', 'imapflow', 'raw'] as const)
      assert.ok(density.perMailbox[who].heapKb > 0, `${who} holds its connections on the heap`);

    const latency = row('latency').details as {
      messages: number;
      notPushed: number;
      notAnnounced: number;
      pushMinusExistsByStageMs: Record<string, { n: number }>;
    };
    assert.equal(latency.messages, 10);
    assert.equal(latency.notPushed, 0);
    assert.equal(latency.notAnnounced, 0);
    // The worker's own EXISTS, traced by the preload, splits Dovecot's share from the worker's.
    const stages = latency.pushMinusExistsByStageMs;
    assert.equal(stages['dovecot: observer EXISTS → worker EXISTS']?.n, latency.messages);
    assert.ok((stages['worker:   STATUS (badge)']?.n ?? 0) > 0, 'the worker stage split into its commands');
    for (const f of row('latency').figures.filter((x) => x.floor !== undefined))
      assert.ok(f.floor! > 0 && f.mailpush > 0, f.measure);

    const push = row('push').details as Record<
      'apns' | 'apnsHttp2' | 'fcm',
      Record<'dispatcher' | 'floor', { notifications: number; perSecond: number }>
    >;
    // APNs through node-apn (the default) and again with APNS_CLIENT=http2, both beside the floor.
    for (const kind of ['apns', 'apnsHttp2', 'fcm'] as const)
      for (const who of ['dispatcher', 'floor'] as const) {
        assert.equal(push[kind][who].notifications, 8, `${kind} ${who}`);
        assert.ok(push[kind][who].perSecond > 0);
      }

    const coldstart = row('coldstart');
    assert.equal(coldstart.figures.length, 2, 'cold start and failover');
    const failover = (coldstart.details as { failover: { moved: number } }).failover;
    // Accounts follow their slots: with 4 mailboxes both workers hold slots, but all 4 accounts may
    // hash to one worker's; the bench kills the one holding more.
    assert.ok(failover.moved > 0 && failover.moved <= 4, 'the killed worker held mailboxes');
  });
});
