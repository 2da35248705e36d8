import type { PushNotification } from './push-notification';

const ELLIPSIS = '…';

/**
 * Shortens the body (the subject), then the title, until the payload as the transport serializes
 * it fits `maxBytes`, keeping as much text as fits. Measures the real serialized size (a binary
 * search over whole characters) rather than estimating: escaping turns one byte of a subject into
 * up to six bytes of JSON. Cuts never split a character and end with an ellipsis. Returns
 * undefined when even an empty body and title do not fit (the custom data alone is too large).
 */
export function fitNotification(
  n: PushNotification,
  maxBytes: number,
  serializedBytes: (candidate: PushNotification) => number,
): PushNotification | undefined {
  if (serializedBytes(n) <= maxBytes) return n;
  let current = n;
  for (const field of ['body', 'title'] as const) {
    const chars = Array.from(current[field]);
    const withPrefix = (k: number): PushNotification => ({
      ...current,
      [field]: k === 0 ? '' : chars.slice(0, k).join('') + ELLIPSIS,
    });
    // Largest k whose payload fits; k = 0 means the field is emptied.
    let lo = 0;
    let hi = chars.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (serializedBytes(withPrefix(mid)) <= maxBytes) lo = mid;
      else hi = mid - 1;
    }
    current = withPrefix(Math.max(0, lo));
    if (serializedBytes(current) <= maxBytes) return current;
  }
  return undefined;
}
