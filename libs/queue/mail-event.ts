import { createHash } from 'node:crypto';

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
  /** When the mail server received it (IMAP INTERNALDATE, ms since epoch), for end-to-end latency. */
  arrivedAt?: number;
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
 * One message to several devices of its user. Each device is delivered at most once however
 * often the job runs (delivery marks, see DeliveryMarks); a retry sends only to the devices that
 * have not been settled yet.
 */
export interface DeliveryBatchJob {
  event: MailEvent;
  deviceIds: string[];
}

/**
 * `<message key>.b<digest of the device ids>`: the same batch fanned out again (a retried fan-out)
 * is deduplicated; a batch that changed (a device added meanwhile) is a new job, and the delivery
 * marks keep the devices it shares with the first from being notified twice.
 */
export function deliveryBatchJobId(event: MailEvent, deviceIds: readonly string[]): string {
  const digest = createHash('sha256').update(deviceIds.join(',')).digest('hex').slice(0, 16);
  return `${event.messageKey}.b${digest}`;
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

/**
 * An account's credentials were refused for good (`auth_failed`, `reauth_required`): every device
 * of the person gets one "Reconnect <email>" notification. Carries no secret: the one-time link
 * is made when each notification is sent.
 */
export interface ReauthEvent {
  accountId: string;
  userId: string;
  /** The credentials version that was refused: re-arming bumps it, so the next refusal is new. */
  credentialsVersion: number;
  code: string;
  detectedAt: number;
}

/** Exactly one Reconnect per account and credentials version, whichever worker sees the refusal. */
export function reauthKey(accountId: string, credentialsVersion: number): string {
  return `reauth.${accountId}.${credentialsVersion}`;
}

export interface ReauthDeliveryJob {
  event: ReauthEvent;
  deviceId: string;
}

export function reauthDeliveryJobId(event: ReauthEvent, deviceId: string): string {
  return `${reauthKey(event.accountId, event.credentialsVersion)}.${deviceId}`;
}

/** The event as kept after delivery ends (dead letters): ids, counts and times, no sender or subject. */
export function withoutContent(event: MailEvent): MailEvent {
  const { from: _from, subject: _subject, ...rest } = event;
  return rest;
}
