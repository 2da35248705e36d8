import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newId } from '@mailpush/store';
import { eventually } from '../harness';
import { makeApnsToken, makeFcmToken } from '../support/factories';
import { makeMailEvent, startDispatchRig, type DispatchRig } from './dispatch.fixture';

const BUDGET = 5;
const WINDOW_MS = 4000;

/** 200 messages in one mailbox within seconds: a bounded number of notifications per device. */
describe('bursts', { timeout: 60_000 }, () => {
  let rig: DispatchRig;

  before(async () => {
    rig = await startDispatchRig({
      env: { MAILPUSH_BURST_BUDGET: String(BUDGET), MAILPUSH_BURST_WINDOW_MS: String(WINDOW_MS) },
    });
  });

  after(async () => {
    await rig?.stop();
  });

  it('notifies the first few one by one, then one summary for the rest, on every device', async () => {
    const ios = makeApnsToken();
    const android = makeFcmToken();
    const { userId, devices } = await rig.makeUser([
      { platform: 'ios', token: ios, environment: 'sandbox', privacy: 'full' },
      { platform: 'android', token: android, privacy: 'none' },
    ]);
    const accountId = newId('acc');
    const events = Array.from({ length: 200 }, (_, i) =>
      makeMailEvent(userId, { accountId, uid: 1000 + i, subject: `Burst ${i}` }),
    );
    const started = Date.now();
    await rig.enqueue(events);

    const apnsFor = () => rig.apns.delivered().filter((r) => r.token === ios);
    const fcmFor = () => rig.fcm.delivered().filter((r) => r.token === android);
    await eventually(
      () => {
        assert.equal(apnsFor().length, BUDGET + 1);
        assert.equal(fcmFor().length, BUDGET + 1);
      },
      { timeoutMs: WINDOW_MS + 10_000 },
    );
    await rig.quiescent();
    assert.equal(apnsFor().length, BUDGET + 1, 'nothing more after the summary');
    assert.equal(fcmFor().length, BUDGET + 1);

    const payloads = apnsFor().map(
      (r) => r.payload as { kind: string; count?: string; accountId?: string; aps: { alert: { body: string } } },
    );
    const singles = payloads.filter((p) => p.kind === 'message');
    const [summary] = payloads.filter((p) => p.kind === 'burst');
    assert.equal(singles.length, BUDGET);
    assert.deepEqual(
      [summary?.count, summary?.accountId, summary?.aps.alert.body],
      ['195', accountId, '195 new messages'],
    );
    const summaryReq = apnsFor().find((r) => (r.payload as { kind: string }).kind === 'burst')!;
    assert.ok(summaryReq.receivedAt - started >= WINDOW_MS - 500, 'the summary waits for the window to close');
    assert.equal(
      summaryReq.headers['apns-collapse-id'],
      `burst.${devices[0]!.id}.${summaryReq.headers['apns-collapse-id']!.split('.').at(-1)}`,
    );

    const androidSummary = fcmFor().find((r) => (r.message as { data: { kind: string } }).data.kind === 'burst')!;
    assert.deepEqual(
      (androidSummary.message as { notification: unknown }).notification,
      { body: 'New mail' },
      '`none` shows no count either',
    );
  });

  it('stays within FCM per-device limits: at most budget + 1 pushes per window', async () => {
    const android = makeFcmToken();
    const { userId } = await rig.makeUser([{ platform: 'android', token: android, privacy: 'full' }]);
    // One window: BUDGET singles and one summary; the next message opens a new window with a fresh budget.
    await rig.enqueue(Array.from({ length: 30 }, (_, i) => makeMailEvent(userId, { uid: 5000 + i })));
    await eventually(() => assert.equal(rig.fcm.delivered().filter((r) => r.token === android).length, BUDGET + 1), {
      timeoutMs: WINDOW_MS + 10_000,
    });
    await rig.quiescent();
    await rig.enqueue(Array.from({ length: 3 }, (_, i) => makeMailEvent(userId, { uid: 6000 + i })));
    await eventually(() => assert.equal(rig.fcm.delivered().filter((r) => r.token === android).length, BUDGET + 1 + 3));
  });
});
