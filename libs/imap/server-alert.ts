/** An [ALERT] is meant for the person, but it is still server-controlled text: bound it. */
export const MAX_ALERT_CHARS = 200;

/**
 * Makes an IMAP `[ALERT]` text safe to store and show: control characters and markup brackets
 * removed, whitespace collapsed, the account's own secrets masked should a server echo them, and
 * the length bounded. Returns undefined when nothing readable is left.
 */
export function sanitizeAlert(text: string, secrets: readonly string[] = []): string | undefined {
  let out = text.normalize('NFKC');
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('***');
  out = out
    .replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cn}]/gu, ' ')
    .replace(/[<>]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (!out) return undefined;
  const chars = [...out];
  return chars.length > MAX_ALERT_CHARS ? `${chars.slice(0, MAX_ALERT_CHARS - 1).join('')}…` : out;
}
