import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisScript, ScriptReplyError } from '@mailpush/store';
import { useRealRedis } from './redis.fixture';

/** A scripts folder of its own: `<dir>/lua/<name>.lua`, as beside a repository. */
function scriptsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailpush-lua-'));
  mkdirSync(join(dir, 'lua'));
  for (const [name, lua] of Object.entries(files)) writeFileSync(join(dir, 'lua', `${name}.lua`), lua);
  return dir;
}

async function scriptCalls(info: string): Promise<{ eval: number; evalsha: number }> {
  const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return { eval: calls('eval'), evalsha: calls('evalsha') };
}

describe('RedisScript: .lua files read once, sent by SHA, replies checked', () => {
  const redis = useRealRedis();
  const dir = scriptsDir({
    'spec-echo-keys': 'return {KEYS[1], ARGV[1], #KEYS}',
    'spec-secret': 'return ARGV[1]',
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const echo = new RedisScript(dir, 'spec-echo-keys', 'varying', (reply) => {
    const [key, arg, count] = reply.array(3);
    return { key: key.string(), arg: arg.string(), count: count.integer() };
  });

  it('passes keys as KEYS and arguments as ARGV', async () => {
    assert.deepEqual(await echo.run(redis.client, ['k1', 'k2'], ['a', 7]), { key: 'k1', arg: 'a', count: 2 });
  });

  it('sends the text only to a server that does not know it, then only its SHA', async () => {
    await redis.client.script('FLUSH');
    await redis.client.config('RESETSTAT');
    for (let i = 0; i < 3; i++) await echo.run(redis.client, ['k'], ['a']);
    const calls = await scriptCalls(await redis.client.info('commandstats'));
    assert.equal(calls.eval, 1, 'the full text once, after NOSCRIPT');
    assert.equal(calls.evalsha, 3);
    assert.deepEqual(await redis.client.script('EXISTS', echo.sha), [1]);
  });

  it('runs beside commands auto-pipelined in the same tick, on a client it never saw', async () => {
    const fresh = new Redis(redis.url, { enableAutoPipelining: true });
    try {
      const script = new RedisScript(dir, 'spec-secret', 1, (reply) => reply.string());
      const [before, answer] = await Promise.all([fresh.get('k'), script.run(fresh, ['k'], ['v'])]);
      assert.equal(before, null);
      assert.equal(answer, 'v');
    } finally {
      await fresh.quit();
    }
  });

  it('refuses a reply of the wrong shape, naming the script but not the value', async () => {
    const strict = new RedisScript(dir, 'spec-secret', 1, (reply) => reply.integer());
    await assert.rejects(strict.run(redis.client, ['k'], ['s3cret-token']), (err: unknown) => {
      assert.ok(err instanceof ScriptReplyError);
      assert.match(err.message, /spec-secret/);
      assert.doesNotMatch(err.message, /s3cret/);
      return true;
    });
  });

  it('refuses an array of the wrong length and a number outside the expected set', async () => {
    const short = new RedisScript(dir, 'spec-echo-keys', 'varying', (reply) => reply.array(2));
    await assert.rejects(short.run(redis.client, ['k'], ['a']), ScriptReplyError);
    const oneOf = new RedisScript(dir, 'spec-secret', 1, (reply) => reply.oneOf([0, 1]));
    await assert.rejects(oneOf.run(redis.client, ['k'], [2]), ScriptReplyError);
  });

  it('refuses a call with another number of keys than the script takes', async () => {
    const oneKey = new RedisScript(dir, 'spec-secret', 1, (reply) => reply.string());
    await assert.rejects(oneKey.run(redis.client, ['k1', 'k2'], ['a']), /takes 1 keys, not 2/);
  });

  it('refuses two different files under one name', () => {
    const other = scriptsDir({ 'spec-echo-keys': 'return 1' });
    try {
      assert.throws(
        () => new RedisScript(other, 'spec-echo-keys', 'varying', (reply) => reply.integer()),
        /two Redis scripts/,
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('fails at load when the file is missing (a build that did not copy the scripts)', () => {
    assert.throws(() => new RedisScript(dir, 'spec-missing', 1, (reply) => reply.integer()), /ENOENT/);
  });
});
