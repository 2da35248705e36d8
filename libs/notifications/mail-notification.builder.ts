import type { PushNotification } from '@mailpush/push/push-notification';
import type { MailEvent } from '@mailpush/queue';
import type { PrivacyTier } from '@mailpush/store';

/** A sender name longer than this is noise on a lock screen. */
const MAX_TITLE_BYTES = 256;
/**
 * A first bound only: each transport then shortens the body until the whole serialized payload
 * fits its service's limit (escaping can make a subject several times larger in JSON).
 */
const MAX_BODY_BYTES = 4096;

/** Localization keys an app ships (Localizable.strings / strings.xml); see docs/payloads.md. */
export const LOC_KEYS = {
  /** "New mail": the whole text of a content-free (`none`) notification. */
  newMail: 'NEW_MAIL',
  /** "New message": the body under the sender's name (`sender`). */
  newMessage: 'NEW_MESSAGE',
  /** "%@ new messages" with the count as its one argument (summaries). */
  newMessages: 'NEW_MESSAGES',
  /** "Sign in again to keep getting new-mail notifications" (Reconnect). */
  reconnect: 'RECONNECT',
} as const;

const ELLIPSIS = '…';

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character, adding an ellipsis when cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const budget = maxBytes - Buffer.byteLength(ELLIPSIS, 'utf8');
  if (budget <= 0) return '';
  let out = '';
  let used = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (used + size > budget) break;
    out += ch;
    used += size;
  }
  return out + ELLIPSIS;
}

function senderOf(event: MailEvent): string {
  return event.from?.name?.trim() || event.from?.address?.trim() || 'New mail';
}

function withBadge(n: PushNotification, unseen: number | undefined): PushNotification {
  return typeof unseen === 'number' && Number.isInteger(unseen) && unseen >= 0 ? { ...n, badge: unseen } : n;
}

function countNotification(
  count: number,
  privacy: PrivacyTier,
): Pick<PushNotification, 'title' | 'body' | 'bodyLocKey' | 'bodyLocArgs'> {
  // A count is not content, but `none` promises the same words for every push.
  if (privacy === 'none') return { title: '', body: 'New mail', bodyLocKey: LOC_KEYS.newMail };
  return { title: '', body: `${count} new messages`, bodyLocKey: LOC_KEYS.newMessages, bodyLocArgs: [String(count)] };
}

/** What one device is shown for one message (or a worker's catch-up summary), by its privacy tier. */
export function buildMailNotification(event: MailEvent, privacy: PrivacyTier): PushNotification {
  const data: Record<string, string> = {
    kind: 'message',
    accountId: event.accountId,
    messageKey: event.messageKey,
    uid: String(event.uid),
  };
  const base = { collapseKey: event.messageKey, threadId: event.accountId };
  if (event.summary) {
    return withBadge(
      {
        ...base,
        ...countNotification(event.summary.count, privacy),
        data: {
          ...data,
          kind: 'summary',
          count: String(event.summary.count),
          firstUid: String(event.summary.firstUid),
        },
      },
      event.unseen,
    );
  }
  let text: Pick<PushNotification, 'title' | 'body' | 'bodyLocKey'>;
  switch (privacy) {
    case 'none':
      text = { title: '', body: 'New mail', bodyLocKey: LOC_KEYS.newMail };
      break;
    case 'sender':
      text = {
        title: truncateUtf8(senderOf(event), MAX_TITLE_BYTES),
        body: 'New message',
        bodyLocKey: LOC_KEYS.newMessage,
      };
      break;
    case 'full':
      text = {
        title: truncateUtf8(senderOf(event), MAX_TITLE_BYTES),
        body: truncateUtf8(event.subject?.trim() || '(no subject)', MAX_BODY_BYTES),
      };
      break;
  }
  return withBadge({ ...base, ...text, data }, event.unseen);
}

export interface BurstSummary {
  deviceId: string;
  windowStart: number;
  /** Messages of the window that were not notified one by one. */
  count: number;
  /** Set when every one of them came from the same account. */
  accountId?: string;
}

/** "N new messages" for the rest of a burst, sent once when the device's window closes. */
export function buildBurstSummaryNotification(summary: BurstSummary, privacy: PrivacyTier): PushNotification {
  const data: Record<string, string> = { kind: 'burst', count: String(summary.count) };
  if (summary.accountId) data.accountId = summary.accountId;
  return {
    ...countNotification(summary.count, privacy),
    collapseKey: `burst.${summary.deviceId}.${summary.windowStart}`,
    threadId: summary.accountId ?? 'mailpush',
    data,
  };
}

export interface ReauthNotice {
  accountId: string;
  email: string;
  /** The refused credentials' version: the collapse key, so a resend replaces the first. */
  credentialsVersion: number;
  /** The one-time link that re-arms the account (absent without PUBLIC_URL). */
  url?: string;
}

/**
 * "Reconnect <email>": the account's credentials were refused for good and the person must sign
 * in again. `none` devices are not shown the address.
 */
export function buildReauthNotification(notice: ReauthNotice, privacy: PrivacyTier): PushNotification {
  const data: Record<string, string> = { kind: 'reauth', type: 'reauth', accountId: notice.accountId };
  if (notice.url) data.url = notice.url;
  return {
    title: privacy === 'none' ? 'Reconnect your mailbox' : truncateUtf8(`Reconnect ${notice.email}`, MAX_TITLE_BYTES),
    body: 'Sign in again to keep getting new-mail notifications',
    bodyLocKey: LOC_KEYS.reconnect,
    collapseKey: `reauth.${notice.accountId}.${notice.credentialsVersion}`,
    threadId: notice.accountId,
    data,
  };
}
