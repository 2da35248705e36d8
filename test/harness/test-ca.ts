import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * One test CA per test run, made by scripts/run-tests.mjs before any test process starts, so that
 * NODE_EXTRA_CA_CERTS (read by Node only at start-up) can already trust it in every process.
 */
export interface TestCa {
  dir: string;
  caCertPath: string;
  caKeyPath: string;
  /** System CAs plus the test CA: what NODE_EXTRA_CA_CERTS should point at. */
  bundlePath: string;
}

export interface ServerCert {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

const DEFAULT_DIR = resolve(__dirname, '../../../.test-runs/ca');

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Returns the run's CA, creating it (idempotently) when missing. */
export function testCa(dir: string = process.env.MAILPUSH_TEST_CA_DIR ?? DEFAULT_DIR): TestCa {
  mkdirSync(dir, { recursive: true });
  const caCertPath = join(dir, 'ca.crt');
  const caKeyPath = join(dir, 'ca.key');
  const bundlePath = join(dir, 'bundle.pem');
  if (!existsSync(caCertPath) || !existsSync(caKeyPath)) {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKeyPath], dir);
    openssl(
      [
        'req',
        '-x509',
        '-new',
        '-key',
        caKeyPath,
        '-sha256',
        '-days',
        '30',
        '-subj',
        '/CN=mailpush test CA',
        '-out',
        caCertPath,
      ],
      dir,
    );
  }
  if (!existsSync(bundlePath)) {
    const systemBundle = ['/etc/ssl/certs/ca-certificates.crt', process.env.NODE_EXTRA_CA_CERTS]
      .filter((p): p is string => Boolean(p) && existsSync(p as string) && p !== bundlePath)
      .map((p) => readFileSync(p, 'utf8'));
    writeFileSync(bundlePath, [...new Set(systemBundle)].join('\n') + '\n' + readFileSync(caCertPath, 'utf8'));
  }
  return { dir, caCertPath, caKeyPath, bundlePath };
}

/**
 * A server certificate signed by the test CA, valid for the given DNS names and IPs
 * (default localhost and 127.0.0.1). Cached by name set.
 */
export function issueServerCert(names: string[] = ['localhost', '127.0.0.1'], ca: TestCa = testCa()): ServerCert {
  const id = createHash('sha256').update(names.join(',')).digest('hex').slice(0, 12);
  const certPath = join(ca.dir, `server-${id}.crt`);
  const keyPath = join(ca.dir, `server-${id}.key`);
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    const san = names.map((n) => (/^[0-9.]+$/.test(n) || n.includes(':') ? `IP:${n}` : `DNS:${n}`)).join(',');
    const extPath = join(ca.dir, `server-${id}.ext`);
    writeFileSync(
      extPath,
      `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n`,
    );
    const csrPath = join(ca.dir, `server-${id}.csr`);
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyPath], ca.dir);
    openssl(['req', '-new', '-key', keyPath, '-subj', `/CN=${names[0]}`, '-out', csrPath], ca.dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        csrPath,
        '-CA',
        ca.caCertPath,
        '-CAkey',
        ca.caKeyPath,
        '-CAcreateserial',
        '-days',
        '30',
        '-sha256',
        '-extfile',
        extPath,
        '-out',
        certPath,
      ],
      ca.dir,
    );
  }
  return { certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}
