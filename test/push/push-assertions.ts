import assert from 'node:assert/strict';
import { PushDeliveryError } from '@mailpush/push';

/** Awaits a send that must fail with a PushDeliveryError (a retriable or credential failure) and returns it. */
export async function rejection(promise: Promise<unknown>): Promise<PushDeliveryError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof PushDeliveryError, `expected PushDeliveryError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the send to throw');
}
