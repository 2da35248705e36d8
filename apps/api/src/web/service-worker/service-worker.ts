// The web form's service worker: shows a notification for each Web Push message mailpush sends
// (payload: libs/push/web-push.transport.ts, docs/payloads.md).
declare const self: ServiceWorkerGlobalScope;

interface MailPushPayload {
  title?: unknown;
  body?: unknown;
  tag?: unknown;
  data?: unknown;
}

/** What the `none` tier (and anything unreadable) shows: no sender, no subject. */
const FALLBACK_TITLE = 'New mail';

self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  const { title, options } = notificationOf(event.data);
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(focusPage());
});

/**
 * Title and body as sent; a payload without a title (`none` tier: body "New mail"; a summary:
 * "12 new messages") shows its body as the title, so the notification never reads blank.
 */
function notificationOf(data: PushMessageData | null): { title: string; options: NotificationOptions } {
  let payload: MailPushPayload = {};
  try {
    const parsed: unknown = data?.json();
    if (typeof parsed === 'object' && parsed !== null) payload = parsed;
  } catch {
    // Not JSON: shown as plain "New mail".
  }
  const title = text(payload.title);
  const body = text(payload.body);
  const options: NotificationOptions = {
    body: title ? body : '',
    // The message key: a duplicate replaces the first instead of showing twice.
    ...(text(payload.tag) ? { tag: text(payload.tag) } : {}),
    data: typeof payload.data === 'object' && payload.data !== null ? payload.data : {},
  };
  return { title: title || body || FALLBACK_TITLE, options };
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.slice(0, 500) : '';
}

async function focusPage(): Promise<void> {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows[0];
  if (open) await open.focus();
}
