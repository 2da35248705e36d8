/** A new message as the worker saw it. Holds sender and subject: never log it. */
export interface MailEvent {
  accountId: string;
  userId: string;
  uidValidity: number;
  uid: number;
  /** Stable idempotency key `(accountId, uidValidity, uid)`: job id, collapse id and tag. */
  messageKey: string;
  from?: { name?: string; address?: string };
  subject?: string;
  /** ISO date from the envelope, when the message had one. */
  date?: string;
  /** When the worker saw it (ms since epoch), for latency figures. */
  detectedAt: number;
  /**
   * Present when this event stands for several messages at once ("7 new messages"): a catch-up
   * or a burst too large to notify one by one. `uid` is then the last UID covered.
   */
  summary?: { count: number; firstUid: number };
  /** Unseen messages in the mailbox after this one, when the worker knows: the app badge. */
  unseen?: number;
}

/**
 * `acc_<hex>.<uidValidity>.<uid>`: no colon and never an integer string (BullMQ job id rules),
 * at most ~46 bytes (APNs collapse ids allow 64).
 */
export function messageKey(accountId: string, uidValidity: number, uid: number): string {
  return `${accountId}.${uidValidity}.${uid}`;
}

/** Key of a summary event: covers `firstUid..lastUid` of one UIDVALIDITY. */
export function summaryKey(accountId: string, uidValidity: number, firstUid: number, lastUid: number): string {
  return `${accountId}.${uidValidity}.${firstUid}-${lastUid}`;
}

export interface DeliveryJob {
  event: MailEvent;
  deviceId: string;
}

export function deliveryJobId(event: MailEvent, deviceId: string): string {
  return `${event.messageKey}.${deviceId}`;
}

/**
 * The messages of one device's burst window that were not notified one by one: sent once, as
 * "N new messages", when the window closes. The counts live in Redis (the burst budget).
 */
export interface BurstSummaryJob {
  userId: string;
  deviceId: string;
  /** Window start (ms since epoch): identifies the window. */
  windowStart: number;
}

export function burstSummaryJobId(deviceId: string, windowStart: number): string {
  return `burst.${deviceId}.${windowStart}`;
}

/** The event as kept after delivery ends (dead letters): ids, counts and times, no sender or subject. */
export function withoutContent(event: MailEvent): MailEvent {
  const { from: _from, subject: _subject, ...rest } = event;
  return rest;
}
