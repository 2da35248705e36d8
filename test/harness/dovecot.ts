import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { eventually } from './eventually';
import { freePorts, waitForPortClosed } from './free-port';
import {
  findExecutable,
  isAlive,
  makeTemporaryDir,
  spawnGuarded,
  type GuardedProcess,
  type TemporaryDir,
} from './guarded-process';
import { buildMessage } from './mail-message';
import { issueServerCert, testCa } from './test-ca';

export interface DovecotUser {
  user: string;
  password: string;
}

export interface DovecotOptions {
  users?: DovecotUser[];
  /** false: IDLE is not advertised in CAPABILITY, so clients have to poll. Default true. */
  idle?: boolean;
  /**
   * Also accept SASL XOAUTH2 / OAUTHBEARER: Dovecot's oauth2 passdb validates each access token
   * by introspection (RFC 7662) at this URL (the login name must be a user here too).
   */
  oauth2?: { introspectionUrl: string };
  /**
   * Simultaneous IMAP connections the instance must hold, when more than 1,024 (the default
   * limit): sizes the imap process limit and the client limits. Every connection is one imap process.
   */
  maxConnections?: number;
}

export interface DeliverInput {
  from: string;
  /** May be UTF-8. */
  subject: string;
  body?: string;
  messageId?: string;
}

export interface DovecotHandle {
  host: '127.0.0.1';
  /** The implicit-TLS (imaps) port. */
  port: number;
  /** The plain imap port (STARTTLS offered, plaintext LOGIN allowed). */
  plainPort: number;
  /** The instance's private folder: config, log, passwd file, mail. */
  dir: string;
  addUser(user: string, password: string): Promise<void>;
  setPassword(user: string, password: string): Promise<void>;
  /** Delivers through dovecot-lda; resolves once the message is stored. */
  deliver(user: string, msg: DeliverInput): Promise<{ deliveredAt: number }>;
  /**
   * Stores a message straight into the user's Maildir (tmp/ then new/, as an MTA would), which
   * works while the server is down: mail that arrives while nobody can read it.
   */
  deliverToMaildir(user: string, msg: DeliverInput): { deliveredAt: number };
  /**
   * Replaces INBOX by a new, empty one with a higher UIDVALIDITY (UIDs start again at 1); the
   * user's sessions are disconnected, as when a server really recreates a mailbox.
   */
  recreateInbox(user: string): Promise<void>;
  /** The Maildir holding `user`'s current INBOX (a message file renamed into its `new/` is a delivery too). */
  inboxDir(user: string): string;
  /** SIGKILLs the whole server, connections included, like a crash. */
  kill(): Promise<void>;
  /** Starts again on the same ports with the same mail (stops a running server first). */
  restart(): Promise<void>;
  /** Kills everything and removes `dir`. */
  stop(): Promise<void>;
  /** IMAP login attempts (successful, failed or refused) logged so far, for `user` or for all users. */
  loginCount(user?: string): number;
}

const HOST = '127.0.0.1';
const START_ATTEMPTS = 5;
const START_TIMEOUT_MS = 10_000;
const GRACEFUL_STOP_TIMEOUT_MS = 5_000;
const AUTH_SYNC_TIMEOUT_MS = 5_000;
const COMMAND_TIMEOUT_MS = 15_000;
/** Root: mail processes run as nobody/nogroup, which owns the mail folders. */
const ROOT_MAIL_UID = 65534;
const ROOT_MAIL_GID = 65534;
/** Inotify instances are per uid and every IDLE connection takes one (Dovecot falls back to slow polling past the limit). */
const INOTIFY_MIN_INSTANCES = 8192;
const INOTIFY_MIN_WATCHES = 65536;
/** Dovecot 2.3's post-login CAPABILITY without IDLE (and NOTIFY, the other push mechanism). */
const NO_PUSH_CAPABILITY =
  'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS ' +
  'THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS ' +
  'LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH ' +
  'LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+';
const DEFAULT_PROCESS_LIMIT = 1024;
/** Room above the caller's connections for logins in progress, doveadm and dovecot-lda. */
const CONNECTION_HEADROOM = 100;
const VALID_USER = /^[A-Za-z0-9._@+-]+$/;
const VERSION_FIELD = 'harness_version';
/** INBOX lives in its own folder, ~/inbox-<generation>, so that recreateInbox() can switch to a fresh one. */
const INBOX_GENERATION_FIELD = 'inbox_generation';

/** Starts a private Dovecot (IMAP only) on two free 127.0.0.1 ports, imaps and plain imap. */
export async function startDovecot(opts: DovecotOptions = {}): Promise<DovecotHandle> {
  const server = new DovecotServer(opts.idle ?? true, opts.maxConnections ?? 0, opts.oauth2);
  try {
    for (const { user, password } of opts.users ?? []) server.putUser(user, password);
    server.writePasswd();
    await server.startOnFreePorts();
    return server;
  } catch (err) {
    await server.stop();
    throw err;
  }
}

class DovecotServer implements DovecotHandle {
  readonly host = HOST;
  port = 0;
  plainPort = 0;
  readonly dir: string;

  private readonly tmp: TemporaryDir;
  private readonly confPath: string;
  private readonly passwdPath: string;
  private readonly baseDir: string;
  private readonly mailRoot: string;
  private readonly logPath: string;
  private readonly outputPath: string;
  private readonly certPath: string;
  private readonly keyPath: string;
  private readonly caPem: string;
  private readonly mailUid: number;
  private readonly mailGid: number;
  private readonly users = new Map<string, { password: string; inboxGeneration: number }>();
  private proc: GuardedProcess | undefined;
  private passwdStamp = 0;
  private stopped = false;
  private readonly bin = {
    dovecot: findExecutable('dovecot'),
    doveadm: findExecutable('doveadm'),
    lda: findExecutable('dovecot-lda', ['/usr/lib/dovecot', '/usr/libexec/dovecot']),
  };

  constructor(
    private readonly idle: boolean,
    private readonly maxConnections: number,
    private readonly oauth2?: { introspectionUrl: string },
  ) {
    raiseInotifyLimits();
    this.tmp = makeTemporaryDir('mailpush-dovecot-');
    this.dir = this.tmp.path;
    // Dovecot's unprivileged processes (auth, login, mail) must traverse it.
    chmodSync(this.dir, 0o755);
    this.confPath = join(this.dir, 'dovecot.conf');
    this.passwdPath = join(this.dir, 'users');
    this.baseDir = join(this.dir, 'run');
    this.mailRoot = join(this.dir, 'mail');
    this.logPath = join(this.dir, 'dovecot.log');
    this.outputPath = join(this.dir, 'master.out');
    mkdirSync(join(this.dir, 'state'));
    mkdirSync(this.mailRoot, { mode: 0o700 });
    const root = process.getuid?.() === 0;
    this.mailUid = root ? ROOT_MAIL_UID : (process.getuid?.() ?? ROOT_MAIL_UID);
    this.mailGid = root ? ROOT_MAIL_GID : (process.getgid?.() ?? ROOT_MAIL_GID);
    if (root) chownSync(this.mailRoot, this.mailUid, this.mailGid);
    // Copies, so that a restart still finds them whatever happens to the shared CA folder.
    // The extra name keeps this process's certificate apart from other test processes'
    // (issueServerCert caches by name set, and two processes writing one pair could mix them).
    const cert = issueServerCert(['localhost', HOST, `dovecot-${process.pid}.mailpush.test`]);
    this.certPath = join(this.dir, 'server.crt');
    this.keyPath = join(this.dir, 'server.key');
    copyFileSync(cert.certPath, this.certPath);
    copyFileSync(cert.keyPath, this.keyPath);
    chmodSync(this.keyPath, 0o600);
    this.caPem = readFileSync(testCa().caCertPath, 'utf8');
  }

  putUser(user: string, password: string): void {
    if (!VALID_USER.test(user)) throw new Error(`dovecot harness: invalid user name ${JSON.stringify(user)}`);
    if (/[:\r\n]/.test(password)) throw new Error('dovecot harness: a password must not contain ":" or line breaks');
    this.users.set(user, { password, inboxGeneration: this.users.get(user)?.inboxGeneration ?? 0 });
  }

  /** Rewrites the passwd-file. Dovecot reloads it when its mtime or size changes, so every version gets a new mtime. */
  writePasswd(): void {
    this.passwdStamp = Math.max(Math.floor(Date.now() / 1000), this.passwdStamp + 1);
    // The version field (a passdb extra field, ignored by logins) lets waitForPasswd() see which
    // version the auth process has loaded.
    const lines = [...this.users].map(
      ([user, { password, inboxGeneration }]) =>
        `${user}:{PLAIN}${password}:${this.mailUid}:${this.mailGid}::${this.home(user)}::` +
        `userdb_${INBOX_GENERATION_FIELD}=${inboxGeneration} ${VERSION_FIELD}=${this.passwdStamp}`,
    );
    const tmpPath = `${this.passwdPath}.tmp`;
    writeFileSync(tmpPath, lines.join('\n') + '\n', { mode: 0o644 });
    chmodSync(tmpPath, 0o644);
    utimesSync(tmpPath, this.passwdStamp, this.passwdStamp);
    renameSync(tmpPath, this.passwdPath);
  }

  async startOnFreePorts(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      [this.port, this.plainPort] = await freePorts(2);
      this.writeConfig();
      const failure = await this.launch();
      if (failure === undefined) return;
      if (attempt < START_ATTEMPTS && failure.includes('Address already in use')) continue;
      throw new Error(`dovecot did not start:\n${failure}`);
    }
  }

  async addUser(user: string, password: string): Promise<void> {
    if (this.users.has(user)) throw new Error(`dovecot harness: user ${user} exists already`);
    this.putUser(user, password);
    this.writePasswd();
    await this.waitForPasswd(user);
  }

  async setPassword(user: string, password: string): Promise<void> {
    if (!this.users.has(user)) throw new Error(`dovecot harness: no user ${user}`);
    this.putUser(user, password);
    this.writePasswd();
    await this.waitForPasswd(user);
  }

  async deliver(user: string, msg: DeliverInput): Promise<{ deliveredAt: number }> {
    this.assertRunning();
    const message = buildMessage({ ...msg, to: user });
    const result = await run(this.bin.lda, ['-c', this.confPath, '-d', user, '-f', message.envelopeFrom], message.raw);
    if (result.code !== 0) {
      throw new Error(`dovecot-lda exited with ${result.code} delivering to ${user}: ${result.stderr.trim()}`);
    }
    return { deliveredAt: Date.now() };
  }

  deliverToMaildir(user: string, msg: DeliverInput): { deliveredAt: number } {
    const message = buildMessage({ ...msg, to: user });
    const inbox = this.inboxDir(user);
    const root = process.getuid?.() === 0;
    for (const dir of [this.home(user), inbox, join(inbox, 'tmp'), join(inbox, 'new'), join(inbox, 'cur')]) {
      if (existsSync(dir)) continue;
      mkdirSync(dir, { mode: 0o700 });
      if (root) chownSync(dir, this.mailUid, this.mailGid);
    }
    const name = `${Date.now()}.M${randomBytes(6).toString('hex')}P${process.pid}.mailpush,S=${Buffer.byteLength(message.raw)}`;
    const tmpPath = join(inbox, 'tmp', name);
    writeFileSync(tmpPath, message.raw, { mode: 0o600 });
    if (root) chownSync(tmpPath, this.mailUid, this.mailGid);
    renameSync(tmpPath, join(inbox, 'new', name));
    return { deliveredAt: Date.now() };
  }

  async recreateInbox(user: string): Promise<void> {
    this.assertRunning();
    const entry = this.users.get(user);
    if (entry === undefined) throw new Error(`dovecot harness: no user ${user}`);
    const before = await this.uidValidity(user);
    const oldInbox = this.inboxDir(user);
    // Point the user at a fresh, empty INBOX folder. Deleting the files of the live one instead
    // races with sessions that hold its index open (seen: an assertion failure in imap).
    entry.inboxGeneration++;
    this.writePasswd();
    await this.waitForPasswd(user);
    // Then drop every session, as a server recreating a mailbox would: whoever logs in again
    // gets the new INBOX, with a new UIDVALIDITY and UIDs from 1.
    const pids = (await this.doveadm(['who', '-1', user])).stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((cols) => cols[0] === user && /^\d+$/.test(cols[2] ?? ''))
      .map((cols) => Number(cols[2]));
    if (pids.length > 0) {
      await this.doveadm(['kick', user]);
      await eventually(
        () => {
          for (const pid of pids) if (isAlive(pid)) throw new Error(`imap process ${pid} still running`);
        },
        { timeoutMs: 5_000, message: `kicking ${user}` },
      );
    }
    rmSync(oldInbox, { recursive: true, force: true });
    // UIDVALIDITY comes from an allocator shared by all generations, so it normally grows by
    // itself; make sure of it (a value set by hand can be ahead of the allocator).
    const after = await this.uidValidity(user);
    if (after <= before) {
      await this.doveadm(['mailbox', 'update', '-u', user, '--uid-validity', String(before + 1), 'INBOX']);
    }
  }

  inboxDir(user: string): string {
    const entry = this.users.get(user);
    if (entry === undefined) throw new Error(`dovecot harness: no user ${user}`);
    return join(this.home(user), `inbox-${entry.inboxGeneration}`);
  }

  async kill(): Promise<void> {
    const proc = this.proc;
    if (proc === undefined) return;
    this.proc = undefined;
    await proc.kill();
    await Promise.all([waitForPortClosed(this.port), waitForPortClosed(this.plainPort)]);
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error('dovecot harness: restart() after stop()');
    if (this.proc !== undefined) await this.gracefulStop();
    // The old processes may hold the ports for a moment after dying. The outer deadline exceeds
    // launch()'s own, so that no attempt is left running when this gives up.
    await eventually(
      async () => {
        const failure = await this.launch();
        if (failure !== undefined) throw new Error(failure);
      },
      {
        timeoutMs: START_TIMEOUT_MS + 5_000,
        intervalMs: 100,
        message: `restarting dovecot on ports ${this.port}/${this.plainPort}`,
      },
    );
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.kill();
    this.tmp.remove();
  }

  loginCount(user?: string): number {
    if (!existsSync(this.logPath)) return 0;
    const u = user === undefined ? '[^>]*' : escapeRegExp(user);
    const v = user === undefined ? '[^,)]*' : escapeRegExp(user);
    const patterns = [
      new RegExp(`imap-login: Info: Login: user=<${u}>,`),
      new RegExp(`imap-login: Info: .*Maximum number of connections.*: user=<${u}>,`),
      // Failed passdb lookups; IMAP's carry the client IP after the user, doveadm's and lda's do not.
      new RegExp(`auth: Info: passwd-file\\(${v},[^)]*\\): (Password mismatch|unknown user)`),
    ];
    return readFileSync(this.logPath, 'utf8')
      .split('\n')
      .filter((line) => patterns.some((p) => p.test(line))).length;
  }

  private home(user: string): string {
    return join(this.mailRoot, user);
  }

  private assertRunning(): void {
    if (this.proc === undefined || this.proc.hasExited()) throw new Error('dovecot harness: the server is not running');
  }

  private writeConfig(): void {
    const root = process.getuid?.() === 0;
    const oauth2Path = join(this.dir, 'dovecot-oauth2.conf.ext');
    if (this.oauth2) {
      writeFileSync(
        oauth2Path,
        [
          `introspection_url = ${this.oauth2.introspectionUrl}`,
          'introspection_mode = post',
          'username_attribute = email',
          'active_attribute = active',
          'active_value = true',
          'force_introspection = yes',
        ].join('\n') + '\n',
      );
    }
    const me = userInfo().username;
    // Only root can chroot; an unprivileged instance runs every process as the caller.
    const noChroot = root ? [] : ['  chroot ='];
    const imapProcesses = Math.max(DEFAULT_PROCESS_LIMIT, this.maxConnections + CONNECTION_HEADROOM);
    const lines = [
      '# Generated by test/harness/dovecot.ts for one test instance.',
      `instance_name = ${this.dir.split('/').pop() ?? 'mailpush-dovecot'}`,
      `base_dir = ${this.baseDir}`,
      `state_dir = ${join(this.dir, 'state')}`,
      `log_path = ${this.logPath}`,
      `info_log_path = ${this.logPath}`,
      `debug_log_path = ${this.logPath}`,
      'protocols = imap',
      `listen = ${HOST}`,
      'ssl = yes',
      `ssl_cert = <${this.certPath}`,
      `ssl_key = <${this.keyPath}`,
      'disable_plaintext_auth = no',
      `auth_mechanisms = plain login${this.oauth2 ? ' xoauth2 oauthbearer' : ''}`,
      'auth_verbose = yes',
      // A failed login is answered within 0.5 s (the auth process's check interval), not after 2 s.
      'auth_failure_delay = 0',
      // Other folders stay in ~/Maildir, beside the UIDVALIDITY allocator every INBOX generation shares.
      `mail_location = maildir:~/Maildir:INBOX=~/inbox-%{userdb:${INBOX_GENERATION_FIELD}}`,
      'mail_fsync = never',
      'mailbox_idle_check_interval = 1s',
      'postmaster_address = postmaster@mailpush.test',
      `first_valid_uid = ${Math.min(this.mailUid, 500) || 1}`,
      // Anvil and auth serve every imap and login process: their client limit follows the process count.
      `default_client_limit = ${Math.max(4096, 2 * imapProcesses)}`,
      `default_process_limit = ${DEFAULT_PROCESS_LIMIT}`,
      ...(root
        ? []
        : [`default_internal_user = ${me}`, `default_login_user = ${me}`, `default_internal_group = ${groupName()}`]),
      ...(this.idle ? [] : [`imap_capability = ${NO_PUSH_CAPABILITY}`]),
      'passdb {',
      '  driver = passwd-file',
      `  args = scheme=PLAIN ${this.passwdPath}`,
      '}',
      ...(this.oauth2
        ? ['passdb {', '  driver = oauth2', '  mechanisms = xoauth2 oauthbearer', `  args = ${oauth2Path}`, '}']
        : []),
      'userdb {',
      '  driver = passwd-file',
      `  args = ${this.passwdPath}`,
      '}',
      'protocol imap {',
      '  mail_max_userip_connections = 50',
      '}',
      'service imap-login {',
      '  inet_listener imap {',
      `    address = ${HOST}`,
      `    port = ${this.plainPort}`,
      '  }',
      '  inet_listener imaps {',
      `    address = ${HOST}`,
      `    port = ${this.port}`,
      '    ssl = yes',
      '  }',
      // High-performance mode: a couple of long-lived login processes serve every connection.
      '  service_count = 0',
      '  process_min_avail = 2',
      '  client_limit = 1024',
      ...noChroot,
      '}',
      'service imap {',
      `  process_limit = ${imapProcesses}`,
      '}',
      // No auth penalty (Dovecot delays logins from an IP by 2-15 s after failures): tests that
      // fail logins on purpose must not slow down the next ones. The auth process cannot open
      // anvil's penalty socket and so runs without it.
      'service anvil {',
      '  unix_listener anvil-auth-penalty {',
      '    mode = 0',
      '  }',
      ...noChroot,
      '}',
      ...(root ? [] : ['service imap-urlauth-login {', ...noChroot, '}']),
    ];
    writeFileSync(this.confPath, lines.join('\n') + '\n');
  }

  /** Starts the master and waits for the imaps greeting; returns why it failed, or undefined. */
  private async launch(): Promise<string | undefined> {
    // A stale pid file of a killed master would make the new one refuse to start if that pid were reused.
    rmSync(join(this.baseDir, 'master.pid'), { force: true });
    const logStart = existsSync(this.logPath) ? readFileSync(this.logPath).length : 0;
    const outStart = existsSync(this.outputPath) ? readFileSync(this.outputPath).length : 0;
    const proc = spawnGuarded(this.bin.dovecot, ['-F', '-c', this.confPath], { outputFile: this.outputPath });
    const state = await eventually(
      async () => {
        if (proc.hasExited()) return 'exited' as const;
        // Whoever else might answer on the port, a master that died (e.g. failed to bind) ends the wait.
        return Promise.race([
          imapsGreeting(this.port, this.caPem).then(() => 'ready' as const),
          proc.exited.then(() => 'exited' as const),
        ]);
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 10, message: `dovecot on port ${this.port} did not greet` },
    ).catch(async (err: unknown) => {
      await proc.kill();
      const logs = [tail(this.logPath, logStart), tail(this.outputPath, outStart)].join('\n').trim();
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- dovecot output ---\n${logs}`, {
        cause: err,
      });
    });
    if (state === 'ready') {
      this.proc = proc;
      return undefined;
    }
    return [tail(this.logPath, logStart), tail(this.outputPath, outStart)].join('\n').trim() || 'dovecot exited';
  }

  private async gracefulStop(): Promise<void> {
    const proc = this.proc;
    if (proc === undefined) return;
    this.proc = undefined;
    const pidFile = join(this.baseDir, 'master.pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
        await eventually(
          () => {
            if (!proc.hasExited()) throw new Error('dovecot master still running');
          },
          { timeoutMs: GRACEFUL_STOP_TIMEOUT_MS },
        );
      } catch {
        // fall through to SIGKILL
      }
    }
    await proc.kill();
  }

  /**
   * Waits until the auth process has loaded the current passwd-file, as seen by a passdb and a
   * userdb lookup: it checks the file at most once a second, so a login right after a change could
   * still see the old password. Lookups (unlike a failed `auth test`) answer at once and are not
   * logins.
   */
  private async waitForPasswd(user: string): Promise<void> {
    if (this.proc === undefined || this.proc.hasExited()) return;
    const version = new RegExp(`^\\s*${VERSION_FIELD}\\s*:\\s*${this.passwdStamp}\\s*$`, 'm');
    const generation = new RegExp(
      `^${INBOX_GENERATION_FIELD}\\s+${this.users.get(user)?.inboxGeneration ?? 0}\\s*$`,
      'm',
    );
    await eventually(
      async () => {
        const passdb = await this.doveadm(['auth', 'lookup', user], { allowFailure: true });
        if (!version.test(passdb.stdout))
          throw new Error(`doveadm auth lookup ${user}: ${passdb.stdout.trim()} ${passdb.stderr.trim()}`);
        const userdb = await this.doveadm(['user', user], { allowFailure: true });
        if (!generation.test(userdb.stdout))
          throw new Error(`doveadm user ${user}: ${userdb.stdout.trim()} ${userdb.stderr.trim()}`);
      },
      { timeoutMs: AUTH_SYNC_TIMEOUT_MS, intervalMs: 50, message: `waiting for Dovecot to load the passwd-file` },
    );
  }

  private async uidValidity(user: string): Promise<number> {
    const { stdout } = await this.doveadm(['mailbox', 'status', '-u', user, 'uidvalidity', 'INBOX']);
    const match = /uidvalidity=(\d+)/.exec(stdout);
    if (!match) throw new Error(`unexpected doveadm mailbox status output: ${stdout}`);
    return Number(match[1]);
  }

  private async doveadm(args: string[], opts: { allowFailure?: boolean } = {}): Promise<RunResult> {
    const result = await run(this.bin.doveadm, ['-c', this.confPath, ...args]);
    if (result.code !== 0 && !opts.allowFailure) {
      throw new Error(
        `doveadm ${args.join(' ')} exited with ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`,
      );
    }
    return result;
  }
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}`));
        return;
      }
      resolve({ code: err && typeof err.code === 'number' ? err.code : 0, stdout, stderr });
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

function imapsGreeting(port: number, ca: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: HOST, port, ca, timeout: 2_000 });
    let text = '';
    const finish = (err?: Error): void => {
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.once('timeout', () => finish(new Error('no greeting')));
    socket.once('error', finish);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (!text.includes('\r\n')) return;
      finish(text.startsWith('* OK') ? undefined : new Error(`unexpected greeting ${JSON.stringify(text)}`));
    });
  });
}

function tail(path: string, from: number): string {
  if (!existsSync(path)) return '';
  return readFileSync(path).subarray(from).toString('utf8').slice(-4000);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

let groupNameCache: string | undefined;
function groupName(): string {
  if (groupNameCache === undefined) {
    const gid = process.getgid?.();
    const line = readFileSync('/etc/group', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === String(gid));
    groupNameCache = line?.split(':')[0] ?? userInfo().username;
  }
  return groupNameCache;
}

let inotifyRaised = false;
function raiseInotifyLimits(): void {
  if (inotifyRaised) return;
  inotifyRaised = true;
  for (const [name, min] of [
    ['max_user_instances', INOTIFY_MIN_INSTANCES],
    ['max_user_watches', INOTIFY_MIN_WATCHES],
  ] as const) {
    const path = `/proc/sys/fs/inotify/${name}`;
    try {
      if (Number(readFileSync(path, 'utf8').trim()) < min) writeFileSync(path, String(min));
    } catch {
      // Not permitted (unprivileged or read-only /proc/sys): Dovecot still works, IDLE may poll.
    }
  }
}
