import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PushNotification } from './push-notification';
import { fitNotification } from './payload-fit';

const n = (overrides: Partial<PushNotification> = {}): PushNotification => ({
  title: 'Ada',
  body: 'Engines',
  collapseKey: 'k',
  threadId: 't',
  data: { uid: '1' },
  ...overrides,
});
const json = (c: PushNotification) => Buffer.byteLength(JSON.stringify(c), 'utf8');

describe('fitNotification', () => {
  it('leaves a payload that fits alone', () => {
    const small = n();
    assert.equal(fitNotification(small, 4096, json), small);
  });

  it('cuts the body by what the serialized payload really needs, escapes included', () => {
    for (const body of [
      'x'.repeat(5000),
      '"'.repeat(5000),
      '\u0001'.repeat(5000),
      '😀'.repeat(2000),
      'é✓'.repeat(2000),
    ]) {
      const fitted = fitNotification(n({ body }), 4096, json);
      assert.ok(fitted);
      const size = json(fitted);
      assert.ok(size <= 4096, `${size}`);
      assert.ok(size > 4000, `uses the room: ${size}`);
      assert.ok(body.startsWith(fitted.body.slice(0, -1)) && fitted.body.endsWith('…'));
    }
  });

  it('cuts the title once the body is empty, and gives up when the data alone is too large', () => {
    const fitted = fitNotification(n({ title: 'T'.repeat(500), body: 'b'.repeat(500) }), 400, json);
    assert.ok(fitted && json(fitted) <= 400);
    assert.equal(fitted.body, '');
    assert.equal(fitNotification(n({ data: { big: 'x'.repeat(5000) } }), 4096, json), undefined);
  });
});
