import type { PushNotification } from '../push/push-notification';
import type { MailEvent } from '../queue';
import type { PrivacyTier } from '../store';

/** Room for title and body inside the 4096-byte APNs/FCM payload limit, with the rest of the payload. */
const MAX_TITLE_BYTES = 256;
const MAX_BODY_BYTES = 2048;

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character, adding an ellipsis when cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const ellipsis = '…';
  const budget = maxBytes - Buffer.byteLength(ellipsis, 'utf8');
  let out = '';
  let used = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (used + size > budget) break;
    out += ch;
    used += size;
  }
  return out + ellipsis;
}

function senderOf(event: MailEvent): string {
  return event.from?.name?.trim() || event.from?.address?.trim() || 'New mail';
}

/** What one device is shown for one message, by its privacy tier. */
export function buildMailNotification(event: MailEvent, privacy: PrivacyTier): PushNotification {
  const data = { accountId: event.accountId, messageKey: event.messageKey, uid: String(event.uid) };
  const base = { collapseKey: event.messageKey, threadId: event.accountId, data };
  if (event.summary) {
    const title = privacy === 'none' ? 'New mail' : `${event.summary.count} new messages`;
    return { ...base, title, body: '', data: { ...data, count: String(event.summary.count), firstUid: String(event.summary.firstUid) } };
  }
  switch (privacy) {
    case 'none':
      return { ...base, title: 'New mail', body: '' };
    case 'sender':
      return { ...base, title: truncateUtf8(senderOf(event), MAX_TITLE_BYTES), body: 'New message' };
    case 'full':
      return {
        ...base,
        title: truncateUtf8(senderOf(event), MAX_TITLE_BYTES),
        body: truncateUtf8(event.subject?.trim() || '(no subject)', MAX_BODY_BYTES),
      };
  }
}
