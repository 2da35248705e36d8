import type { PendingSummary } from '@mailpush/store';

/** A new message as the watcher saw it. Holds sender and subject: never log it. */
export interface NewMessage {
  uidValidity: number;
  uid: number;
  from?: { name?: string; address?: string };
  subject?: string;
  date?: string;
  /** INTERNALDATE (ms since epoch): when the mail server received the message. */
  arrivedAt?: number;
  seen: boolean;
}

/** What the watcher hands over to be enqueued: messages one by one, or one summary. */
/** `unseen`: INBOX's unseen count right after the fetch, when the server told us (the app badge). */
export type NewMail =
  | { kind: 'messages'; messages: NewMessage[]; unseen?: number }
  | { kind: 'summary'; summary: PendingSummary; unseen?: number };

export interface CatchUpRow {
  uid: number;
  seen: boolean;
}

export interface CatchUpOptions {
  /** Notify messages that are already \Seen. */
  notifySeen: boolean;
  /** More notifiable messages than this become one summary. */
  summaryThreshold: number;
}

export type CatchUpPlan =
  | { kind: 'none'; coversUpTo: number }
  | { kind: 'messages'; uids: number[]; coversUpTo: number }
  | { kind: 'summary'; summary: PendingSummary };

/**
 * Decides what a batch of UIDs above the cursor becomes. `rows` are every UID fetched above the
 * cursor (any order); the cursor then moves to the highest of them, notified or not.
 */
export function planCatchUp(uidValidity: number, rows: readonly CatchUpRow[], options: CatchUpOptions): CatchUpPlan {
  const sorted = [...rows].sort((a, b) => a.uid - b.uid);
  const coversUpTo = sorted.at(-1)?.uid ?? 0;
  const notifiable = sorted.filter((r) => options.notifySeen || !r.seen);
  const first = notifiable[0];
  const last = notifiable.at(-1);
  if (!first || !last) return { kind: 'none', coversUpTo };
  if (notifiable.length > options.summaryThreshold) {
    return {
      kind: 'summary',
      summary: { uidValidity, firstUid: first.uid, lastUid: last.uid, count: notifiable.length, coversUpTo },
    };
  }
  return { kind: 'messages', uids: notifiable.map((r) => r.uid), coversUpTo };
}
