import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';

/** A script answered something its wrapper does not expect: the .lua file and its parser disagree. */
export class ScriptReplyError extends Error {
  override name = 'ScriptReplyError';

  constructor(script: string, expected: string, reply: unknown) {
    super(`script ${script} answered ${describe(reply)} where ${expected} was expected`);
  }
}

/** Turns a script's raw reply into its typed result, or throws ScriptReplyError. */
export type ReplyParser<R> = (reply: ScriptReply) => R;

type ScriptArg = string | number;

const loaded = new Map<string, string>();

/** How many KEYS a script takes: a fixed number, or as many as each call passes. */
export type ScriptKeys = number | 'varying';

/**
 * A Lua script read once from `<dir>/lua/<name>.lua`, its SHA-1 computed once, and sent by that
 * SHA (EVALSHA): the full text goes only to a server that answers NOSCRIPT (a restart, a failover,
 * another cluster node). EVALSHA is an ordinary command to ioredis, so it is auto-pipelined and, on
 * a Redis Cluster, routed by its first key; every key of one call must share a hash tag (see
 * RedisKeys).
 *
 * Not ioredis `defineCommand`: a command defined on a client after an auto-pipeline was opened is
 * missing from that pipeline ("pipeline[functionName] is not a function"), and one defined without
 * a fixed number of keys is routed on a Cluster by its number of keys instead of its first key.
 */
export class RedisScript<R> {
  readonly lua: string;
  readonly sha: string;

  constructor(
    dir: string,
    readonly name: string,
    readonly keys: ScriptKeys,
    private readonly parse: ReplyParser<R>,
  ) {
    const file = join(dir, 'lua', `${name}.lua`);
    const other = loaded.get(name);
    if (other !== undefined && other !== file) {
      throw new Error(`two Redis scripts are named ${name}: ${other}, ${file}`);
    }
    loaded.set(name, file);
    this.lua = readFileSync(file, 'utf8');
    this.sha = createHash('sha1').update(this.lua).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly ScriptArg[] = []): Promise<R> {
    if (this.keys !== 'varying' && keys.length !== this.keys) {
      throw new Error(`script ${this.name} takes ${this.keys} keys, not ${keys.length}`);
    }
    return this.parse(new ScriptReply(this.name, await this.send(redis, keys, args)));
  }

  private async send(redis: Redis, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}

/** A raw script reply and the checks that turn it into typed values, naming the script when they fail. */
export class ScriptReply {
  constructor(
    readonly script: string,
    readonly value: unknown,
  ) {}

  integer(): number {
    if (typeof this.value !== 'number' || !Number.isInteger(this.value)) this.fail('an integer');
    return this.value;
  }

  oneOf<const T extends readonly number[]>(values: T): T[number] {
    const n = this.integer();
    const found = values.find((v) => v === n);
    if (found === undefined) this.fail(`one of ${values.join(', ')}`);
    return found;
  }

  string(): string {
    if (typeof this.value !== 'string') this.fail('a string');
    return this.value;
  }

  stringOrNull(): string | null {
    if (this.value === null) return null;
    return this.string();
  }

  /** An array reply, each element checked by the caller. */
  array(length?: number): ScriptReply[] {
    if (!Array.isArray(this.value)) this.fail('an array');
    const items: unknown[] = this.value;
    if (length !== undefined && items.length !== length) this.fail(`an array of ${length}`);
    return items.map((item, i) => new ScriptReply(`${this.script}[${i}]`, item));
  }

  fail(expected: string): never {
    throw new ScriptReplyError(this.script, expected, this.value);
  }
}

function describe(reply: unknown): string {
  if (Array.isArray(reply)) return `an array of ${reply.length}`;
  if (reply === null) return 'nil';
  return typeof reply === 'string' ? `a string of ${reply.length} characters` : typeof reply;
}
