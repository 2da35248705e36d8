import assert from 'node:assert/strict';
import { eventually, freePort, imapScript, startFaultProxy, type FaultProxy, type ImapScriptOptions } from '../harness';
import { makeAdminToken, makeMasterKey } from '../support/factories';
import { RoleProcess, type Role } from '../support/role-process';

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The JSON body, or undefined when it is not JSON. */
  json: unknown;
}

/** One HTTP request with whatever headers, body and method: what an attacker would send. */
export async function http(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; headers?: Record<string, string>; body?: unknown; rawBody?: string } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (body === undefined && options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export function errorCode(answer: HttpAnswer): string | undefined {
  const error = (answer.json as { error?: { code?: unknown } } | undefined)?.error;
  return typeof error?.code === 'string' ? error.code : undefined;
}

/** The environment of a role under test: real Redis, loopback IMAP on any port. */
export function securityEnv(redisUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    MAILPUSH_MASTER_KEY: makeMasterKey(),
    MAILPUSH_ADMIN_TOKEN: makeAdminToken(),
    MAILPUSH_ALLOW_PRIVATE_HOSTS: 'true',
    MAILPUSH_ALLOWED_IMAP_PORTS: '*',
    MAILPUSH_OPS_PORT: '0',
    ...extra,
  };
}

export interface RunningApi {
  proc: RoleProcess;
  url: string;
  adminToken: string;
  createUser(): Promise<{ id: string; apiKey: string }>;
}

export async function startApi(env: Record<string, string>, role: Role = 'api'): Promise<RunningApi> {
  const port = await freePort();
  const proc = RoleProcess.start(role, { ...env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => assert.equal((await http(url, 'GET', '/readyz')).status, 200), {
    timeoutMs: 45_000,
    message: `${role} never became ready:\n${proc.logText().slice(-2000)}`,
  });
  const adminToken = env.MAILPUSH_ADMIN_TOKEN ?? '';
  return {
    proc,
    url,
    adminToken,
    async createUser() {
      const res = await http(url, 'POST', '/v1/users', { token: adminToken });
      assert.equal(res.status, 201, res.text);
      return res.json as { id: string; apiKey: string };
    },
  };
}

export interface ScriptedServer {
  proxy: FaultProxy;
  /** Every command line the server received, in order. */
  lines: string[];
  /** LOGIN and AUTHENTICATE commands received: logins that reached the server. */
  logins(): number;
  close(): Promise<void>;
}

/** A scripted IMAP server (test/harness/imap-script.ts) behind its own port, recording what it is sent. */
export async function scriptedServer(options: Omit<ImapScriptOptions, 'onCommand'>): Promise<ScriptedServer> {
  const proxy = await startFaultProxy({ targetPort: await freePort() });
  const lines: string[] = [];
  proxy.impersonate(imapScript({ ...options, onCommand: (line) => lines.push(line) }));
  return {
    proxy,
    lines,
    logins: () => lines.filter((l) => /^\S+ (LOGIN|AUTHENTICATE)\b/i.test(l)).length,
    close: () => proxy.close(),
  };
}

export function accountBody(server: { port: number }, password: string, tls = true, email = 'victim@example.test') {
  return {
    email,
    imap: { host: '127.0.0.1', port: server.port, tls },
    auth: { type: 'password', username: email, password },
  };
}

/** The routes the running application mapped, as Nest reports them at start-up ("Mapped {/path, GET} route"). */
export function mappedRoutes(log: string): string[] {
  const routes = new Set<string>();
  for (const line of log.split('\n')) {
    let msg: unknown;
    try {
      msg = (JSON.parse(line) as { msg?: unknown }).msg;
    } catch {
      continue;
    }
    const m = typeof msg === 'string' ? /^Mapped \{(\S+), (\w+)\} route$/.exec(msg) : null;
    if (m?.[1] && m[2]) routes.add(`${m[2]} ${m[1]}`);
  }
  return [...routes].sort();
}
