import { byId, say } from './dom.js';
import type { MailEventView, ReauthEventView, StreamHandlers } from './event-stream.client.js';

/** The page keeps the newest few; it is a window on what arrives, not a mail client. */
const MAX_ITEMS = 50;

const STATE_WORDS = {
  connecting: 'Connecting to the live stream…',
  live: 'Connected: new mail appears here as your devices are notified of it.',
  retrying: 'The live stream dropped; reconnecting…',
  ended: 'The live stream has ended: this link has expired. Ask the app for a new one to keep watching here.',
} as const;

/** Renders the live stream: newest first, sender and subject as plain text. */
export function liveList(mailboxOf: (accountId: string) => string | undefined): StreamHandlers {
  const list = byId('live-list', HTMLOListElement);
  const status = byId('live-status', HTMLParagraphElement);
  return {
    state(state) {
      say(status, STATE_WORDS[state], state === 'ended' ? 'err' : '');
    },
    mail(event: MailEventView) {
      const item = document.createElement('li');
      item.dataset.id = event.id;
      const sender = event.from?.name || event.from?.address || '';
      const headline = event.summary
        ? `${event.summary.count} new messages`
        : [sender, event.subject].filter(Boolean).join(' — ') || 'New mail';
      const subject = document.createElement('span');
      subject.className = 'subject';
      subject.textContent = headline;
      const meta = document.createElement('span');
      meta.className = 'meta';
      const when = new Date(event.detectedAt ?? Date.now()).toLocaleTimeString();
      meta.textContent = `${when} · ${mailboxOf(event.accountId) ?? 'your mailbox'}`;
      item.append(subject, meta);
      add(item);
    },
    reauth(event: ReauthEventView) {
      const item = document.createElement('li');
      item.dataset.id = event.id;
      item.className = 'err';
      const text = document.createElement('span');
      text.className = 'subject';
      text.textContent = `${event.email} needs you to sign in again. `;
      item.append(text);
      // Only a link to this server's own sign-in start: the stream is trusted, but not blindly.
      if (event.url && event.url.startsWith(`${location.origin}/v1/oauth/`)) {
        const link = document.createElement('a');
        link.href = event.url;
        link.textContent = `Reconnect ${event.email}`;
        item.append(link);
      }
      add(item);
    },
  };

  function add(item: HTMLLIElement): void {
    list.prepend(item);
    while (list.children.length > MAX_ITEMS) list.lastElementChild?.remove();
  }
}
