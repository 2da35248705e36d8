/**
 * The one place where log fields are scrubbed. Anything whose key looks like a secret, a device
 * token or message content is replaced before it reaches a log line; error objects keep only
 * their class, code and a message with credential-looking fragments masked.
 */
const SECRET_KEY =
  /pass(word)?|secret|token|authorization|api[-_]?key|credential|private[-_]?key|cookie|subject|sender|from|body|title|alert|content|payload|auth$/i;

const MAX_STRING = 500;
const MAX_DEPTH = 5;

const INLINE_SECRETS: [RegExp, string][] = [
  [/(bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1[redacted]'],
  [/\b(LOGIN\s+\S+\s+)\S+/gi, '$1[redacted]'],
  [/\b(AUTHENTICATE\s+\S+\s+)\S+/gi, '$1[redacted]'],
  [/(password|pass|token|secret)=([^&\s]+)/gi, '$1=[redacted]'],
  [/\b[0-9a-f]{64}\b/gi, '[hex-token]'],
];

export function redactText(text: string): string {
  let out = text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text;
  for (const [pattern, replacement] of INLINE_SECRETS) out = out.replace(pattern, replacement);
  return out;
}

export function redact(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { error: value.name, ...(typeof code === 'string' ? { code } : {}), message: redactText(value.message) };
  }
  if (depth >= MAX_DEPTH) return '[…]';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      out[key] = SECRET_KEY.test(key) ? '[redacted]' : redact(v, depth + 1);
    }
    return out;
  }
  return `[${typeof value}]`;
}
