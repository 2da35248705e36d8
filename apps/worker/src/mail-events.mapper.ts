import type { NewMail, NewMessage } from '@mailpush/imap';
import { messageKey, summaryKey, type MailEvent } from '@mailpush/queue';
import type { Account } from '@mailpush/store';

/**
 * What the watcher saw, as queue events: one per message (job id = message key), or one summary
 * whose job id covers its UID range, so that publishing it again after a crash adds nothing.
 */
export function toMailEvents(
  account: Pick<Account, 'id' | 'userId'>,
  mail: NewMail,
  now: number = Date.now(),
): MailEvent[] {
  if (mail.kind === 'summary') {
    const s = mail.summary;
    return [
      {
        accountId: account.id,
        userId: account.userId,
        uidValidity: s.uidValidity,
        uid: s.lastUid,
        messageKey: summaryKey(account.id, s.uidValidity, s.firstUid, s.lastUid),
        summary: { count: s.count, firstUid: s.firstUid },
        ...(mail.unseen !== undefined ? { unseen: mail.unseen } : {}),
        detectedAt: now,
      },
    ];
  }
  return mail.messages.map((m: NewMessage) => ({
    accountId: account.id,
    userId: account.userId,
    uidValidity: m.uidValidity,
    uid: m.uid,
    messageKey: messageKey(account.id, m.uidValidity, m.uid),
    ...(m.from ? { from: m.from } : {}),
    ...(m.subject !== undefined ? { subject: m.subject } : {}),
    ...(m.date ? { date: m.date } : {}),
    ...(m.arrivedAt !== undefined ? { arrivedAt: m.arrivedAt } : {}),
    ...(mail.unseen !== undefined ? { unseen: mail.unseen } : {}),
    detectedAt: now,
  }));
}
