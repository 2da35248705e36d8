import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis, Result } from 'ioredis';

/** The commands the scripts below define on a client: `mailpush_<name>`, called with KEYS then ARGV. */
declare module 'ioredis' {
  interface RedisCommander<Context> {
    [script: `mailpush_${string}`]: (...keysAndArgs: (string | number)[]) => Result<unknown, Context>;
  }
}

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
 * A Lua script read once from `<dir>/lua/<name>.lua` and defined once per client with ioredis
 * `defineCommand`: ioredis sends it by SHA-1 (EVALSHA) and the full text only to a server that
 * does not know it yet (a restart, a failover, another cluster node). On a Redis Cluster every key
 * of one call must share a hash tag (see RedisKeys).
 *
 * The number of keys is part of the definition, never an argument: ioredis's auto-pipelining on a
 * Cluster routes a command by its first argument, which must then be a key. A script with
 * `varying` keys is defined once per key count.
 */
export class RedisScript<R> {
  readonly command: `mailpush_${string}`;
  readonly lua: string;

  constructor(
    dir: string,
    readonly name: string,
    readonly keys: ScriptKeys,
    private readonly parse: ReplyParser<R>,
  ) {
    const file = join(dir, 'lua', `${name}.lua`);
    const other = loaded.get(name);
    if (other !== undefined && other !== file)
      throw new Error(`two Redis scripts are named ${name}: ${other}, ${file}`);
    loaded.set(name, file);
    this.command = `mailpush_${name}`;
    this.lua = readFileSync(file, 'utf8');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly ScriptArg[] = []): Promise<R> {
    if (this.keys !== 'varying' && keys.length !== this.keys) {
      throw new Error(`script ${this.name} takes ${this.keys} keys, not ${keys.length}`);
    }
    const command = this.keys === 'varying' ? this.commandFor(keys.length) : this.command;
    if (!Object.hasOwn(redis, command)) redis.defineCommand(command, { lua: this.lua, numberOfKeys: keys.length });
    const reply: unknown = await redis[command](...keys, ...args);
    return this.parse(new ScriptReply(this.name, reply));
  }

  private commandFor(keyCount: number): `mailpush_${string}` {
    return `${this.command}_${keyCount}`;
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
