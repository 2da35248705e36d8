import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { StoredValueError, readStoredJson, requireStoredJson } from './stored-value';

const schema = z.object({ token: z.string(), at: z.number() });

describe('stored JSON', () => {
  it('answers the value when it has the shape', () => {
    assert.deepEqual(readStoredJson(schema, '{"token":"t","at":1}'), { token: 't', at: 1 });
    assert.deepEqual(requireStoredJson(schema, '{"token":"t","at":1}', 'token'), { token: 't', at: 1 });
  });

  it('answers undefined for text that is not JSON or not the shape', () => {
    for (const raw of ['', 'not json', 'null', '[]', '"t"', '{"token":"t"}', '{"token":1,"at":1}']) {
      assert.equal(readStoredJson(schema, raw), undefined, raw);
    }
  });

  it('throws StoredValueError naming what was read, never the value', () => {
    assert.throws(
      () => requireStoredJson(schema, '{"token":"sealed-secret-text"}', 'shared token'),
      (err: unknown) =>
        err instanceof StoredValueError &&
        err.what === 'shared token' &&
        err.message === 'stored shared token is unreadable' &&
        !err.message.includes('sealed-secret-text'),
    );
  });
});
