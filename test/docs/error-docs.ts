import { ERROR_CATALOG } from '@mailpush/errors';

/** docs/errors.md as the catalog says it should read. */
export function renderErrorDocs(): string {
  const rows = Object.entries(ERROR_CATALOG)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, info]) => `| \`${code}\` | ${info.errorClass} | ${info.message.replace(/\|/g, '\\|')} |`);
  return [
    '# Error codes',
    '',
    '<!-- Generated from libs/errors/error-code.ts by `npm run docs:errors`; do not edit by hand. -->',
    '',
    'Every error the relay reports carries one of these codes: API error bodies',
    '(`{"error":{"code","message"}}`), an account\'s `lastError`, dead letters and metric labels. Codes',
    'are stable; clients should key off the code, and may show the message to a person. A push',
    "service's HTTP answer that no table names is reported as `http_<status>`.",
    '',
    'The class decides what the relay does next: `auth` waits for a person (new credentials, a new',
    'sign-in), `rate_limited` backs off for as long as the other side asked, `transient` retries with',
    'a jittered backoff, `permanent` gives up (and for a device token, prunes it only where the push',
    "service's own table says so).",
    '',
    '| Code | Class | What a person is told |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
