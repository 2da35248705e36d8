import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020';
import { buildOpenApiDocument } from './openapi.document';
import { ROUTES } from './openapi.routes';

describe('buildOpenApiDocument', () => {
  const document = buildOpenApiDocument();
  const ajv = new Ajv2020({ strict: false, validateFormats: false });

  it('has one operation per listed route, each with its path parameters declared', () => {
    const operations = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method, op })),
    );
    assert.equal(operations.length, ROUTES.length, 'a route is listed twice');
    for (const { path, op } of operations) {
      const declared = op.parameters.filter((p) => p.in === 'path').map((p) => p.name);
      assert.deepEqual(
        declared,
        [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name),
        path,
      );
    }
  });

  it('turns every request schema into JSON Schema 2020-12 a validator compiles', () => {
    const bodies = Object.values(document.paths)
      .flatMap((ops) => Object.values(ops))
      .flatMap((op) =>
        'requestBody' in op && op.requestBody ? [op.requestBody.content['application/json'].schema] : [],
      );
    assert.ok(bodies.length >= 6, `only ${bodies.length} request bodies`);
    for (const schema of bodies) assert.equal(typeof ajv.compile(schema), 'function');
  });

  it('keeps defaults optional for the client: a device needs only its platform and token', () => {
    const op = document.paths['/v1/devices']?.post;
    assert.ok(op && 'requestBody' in op && op.requestBody);
    const validate = ajv.compile(op.requestBody.content['application/json'].schema);
    assert.equal(validate({ platform: 'android', token: 'a'.repeat(40) }), true);
    assert.equal(validate({ platform: 'android', token: 'a'.repeat(40), privacy: 'everything' }), false);
  });
});
