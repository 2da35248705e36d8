import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../harness';
import { makeApnsToken } from '../support/factories';
import { openStream } from '../support/sse-client';
import { createApiUser, makeMailEvent, startDispatchRig, type DispatchRig } from './dispatch.fixture';

describe('live event stream and dead letters', { timeout: 60_000 }, () => {
  let rig: DispatchRig;

  before(async () => {
    rig = await startDispatchRig({ api: true, env: { MAILPUSH_DELIVERY_ATTEMPTS: '2' } });
  });

  after(async () => {
    await rig?.stop();
  });

  it('streams a user their own new-mail events over SSE, with sender and subject', async () => {
    const { userId, apiKey } = await createApiUser(rig.admin);
    const other = await createApiUser(rig.admin);
    assert.equal((await fetch(`${rig.admin.baseUrl}/v1/events`)).status, 401);
    const stream = await openStream(`${rig.admin.baseUrl}/v1/events`, apiKey);
    const otherStream = await openStream(`${rig.admin.baseUrl}/v1/events`, other.apiKey);
    try {
      assert.equal(stream.status, 200);
      await stream.next('ready');
      await otherStream.next('ready');
      // A user with no device at all still gets the stream.
      const event = makeMailEvent(userId, { subject: 'Over the wire', unseen: 5 });
      await rig.enqueue([event]);
      const received = await stream.next('new-mail');
      assert.equal(received.id, event.messageKey);
      const body = JSON.parse(received.data) as Record<string, unknown>;
      assert.deepEqual(body, {
        type: 'new-mail',
        id: event.messageKey,
        accountId: event.accountId,
        messageKey: event.messageKey,
        uidValidity: event.uidValidity,
        uid: event.uid,
        from: event.from,
        subject: 'Over the wire',
        detectedAt: event.detectedAt,
        unseen: 5,
      });
      await rig.enqueue([makeMailEvent(other.userId, { subject: 'For the other one' })]);
      assert.equal(JSON.parse((await otherStream.next('new-mail')).data).subject, 'For the other one');
    } finally {
      stream.close();
      otherStream.close();
    }
  });

  it('keeps a delivery that exhausted its attempts as a dead letter, and the admin API replays it once', async () => {
    const token = makeApnsToken();
    rig.apns.queueResponses(token, [
      { status: 500, reason: 'InternalServerError' },
      { status: 503, reason: 'ServiceUnavailable' },
    ]);
    const { userId, devices } = await rig.makeUser([
      { platform: 'ios', token, environment: 'sandbox', privacy: 'full' },
    ]);
    const event = makeMailEvent(userId, { subject: 'Lost and found' });
    await rig.enqueue([event]);

    type Letter = {
      id: string;
      jobId: string;
      kind: string;
      deviceId: string;
      platform: string;
      messageKey: string;
      error: { code: string; errorClass: string };
      attempts: number;
    };
    const letter = await eventually(
      async () => {
        const res = await rig.admin.get<{ deadLetters: Letter[] }>('/v1/admin/dead-letters');
        assert.equal(res.status, 200);
        const found = res.body.deadLetters.find((d) => d.messageKey === event.messageKey);
        assert.ok(found, 'no dead letter yet');
        return found;
      },
      { timeoutMs: 15_000 },
    );
    assert.deepEqual(
      [letter.kind, letter.deviceId, letter.platform, letter.attempts, letter.error.code, letter.error.errorClass],
      ['message', devices[0]!.id, 'ios', 2, 'service_unavailable', 'transient'],
    );
    const listing = JSON.stringify((await rig.admin.get('/v1/admin/dead-letters')).body);
    assert.ok(
      !listing.includes(token) && !listing.includes('Lost and found') && !listing.includes('Ada'),
      'no token, no content',
    );
    assert.equal(rig.apns.delivered().filter((r) => r.token === token).length, 0);

    const { apiKey } = await createApiUser(rig.admin);
    assert.equal((await rig.admin.withToken(apiKey).get('/v1/admin/dead-letters')).status, 401, 'admin only');

    const replay = await rig.admin.post<{ status: string; jobId: string }>(
      `/v1/admin/dead-letters/${letter.id}/replay`,
      {},
    );
    assert.equal(replay.status, 202, JSON.stringify(replay.body));
    assert.deepEqual(replay.body, { status: 'requeued', jobId: letter.jobId });
    await eventually(() => assert.equal(rig.apns.delivered().filter((r) => r.token === token).length, 1));
    await rig.quiescent();
    assert.equal(rig.apns.delivered().filter((r) => r.token === token).length, 1);
    const after = await rig.admin.get<{ deadLetters: Letter[] }>('/v1/admin/dead-letters');
    assert.ok(!after.body.deadLetters.some((d) => d.id === letter.id));
    assert.equal((await rig.admin.post(`/v1/admin/dead-letters/${letter.id}/replay`, {})).status, 404);
  });

  it('ends open streams when the API shuts down, so it stops at once (runs last)', async () => {
    const { apiKey } = await createApiUser(rig.admin);
    const stream = await openStream(`${rig.admin.baseUrl}/v1/events`, apiKey);
    await stream.next('ready');
    const started = Date.now();
    assert.equal(await rig.api!.stop(), 0);
    assert.ok(Date.now() - started < 5000, `stopped after ${Date.now() - started} ms`);
    await assert.rejects(stream.next('new-mail'), /stream ended/);
  });
});
