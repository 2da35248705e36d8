import { randomUUID } from 'node:crypto';

export interface MailMessageInput {
  /** `addr@example.com` or `Display Name <addr@example.com>` (the name may be UTF-8). */
  from: string;
  /** Recipient address (or a bare user name, which gets `@mailpush.test`). */
  to: string;
  /** May be UTF-8: encoded as RFC 2047 words when not ASCII. */
  subject: string;
  body?: string;
  /** With or without angle brackets; a random one when omitted. */
  messageId?: string;
  date?: Date;
}

export interface MailMessage {
  /** The RFC 5322 message, LF line endings (what an MTA hands to an LDA). */
  raw: string;
  /** Bare address of the sender, for the envelope. */
  envelopeFrom: string;
  /** With angle brackets. */
  messageId: string;
}

const ASCII_PRINTABLE = /^[\x20-\x7e]*$/;
const ADDRESS_WITH_NAME = /^\s*(.*?)\s*<([^<>\s]+)>\s*$/;
/** 45 bytes of UTF-8 -> 60 base64 chars: "=?UTF-8?B?" + 60 + "?=" stays under RFC 2047's 75. */
const MAX_WORD_BYTES = 45;
const DEFAULT_DOMAIN = 'mailpush.test';

/** Builds an RFC 5322 message with properly encoded headers. */
export function buildMessage(input: MailMessageInput): MailMessage {
  for (const [name, value] of Object.entries({
    from: input.from,
    to: input.to,
    subject: input.subject,
    messageId: input.messageId ?? '',
  })) {
    if (/[\r\n]/.test(value)) throw new Error(`buildMessage: ${name} must not contain line breaks`);
  }
  const from = parseAddress(input.from);
  const to = input.to.includes('@') ? input.to : `${input.to}@${DEFAULT_DOMAIN}`;
  const id = input.messageId ?? `${randomUUID()}@${DEFAULT_DOMAIN}`;
  const messageId = id.startsWith('<') ? id : `<${id}>`;
  const body = (input.body ?? 'Sent by the mailpush test harness.').replace(/\r\n?/g, '\n');
  const asciiBody = /^[\x00-\x7f]*$/.test(body);
  const headers = [
    `From: ${formatAddress(from.name, from.address)}`,
    `To: <${to}>`,
    `Subject: ${encodeHeaderText(input.subject)}`,
    `Date: ${formatDate(input.date ?? new Date())}`,
    `Message-ID: ${messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Transfer-Encoding: ${asciiBody ? '7bit' : 'base64'}`,
  ];
  const encodedBody = asciiBody ? body : wrapBase64(Buffer.from(body, 'utf8').toString('base64'));
  const raw = `${headers.join('\n')}\n\n${encodedBody}${encodedBody.endsWith('\n') ? '' : '\n'}`;
  return { raw, envelopeFrom: from.address, messageId };
}

/** RFC 2047 B-encoding (UTF-8), folded between words, when the text is not plain ASCII. */
export function encodeHeaderText(text: string): string {
  if (ASCII_PRINTABLE.test(text) && !/=\?/.test(text)) return text;
  const words: string[] = [];
  let chunk = '';
  for (const char of text) {
    if (chunk !== '' && Buffer.byteLength(chunk + char, 'utf8') > MAX_WORD_BYTES) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk !== '') words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\n ');
}

function parseAddress(value: string): { name: string; address: string } {
  const match = ADDRESS_WITH_NAME.exec(value);
  if (match) return { name: match[1].replace(/^"(.*)"$/, '$1'), address: match[2] };
  return { name: '', address: value.trim() };
}

function formatAddress(name: string, address: string): string {
  if (name === '') return address;
  if (!ASCII_PRINTABLE.test(name)) return `${encodeHeaderText(name)} <${address}>`;
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/.test(name)) return `${name} <${address}>`;
  return `"${name.replace(/(["\\])/g, '\\$1')}" <${address}>`;
}

/** RFC 5322 date-time in UTC, e.g. "Thu, 27 Nov 2025 20:19:00 +0000". */
function formatDate(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

function wrapBase64(b64: string): string {
  return (b64.match(/.{1,76}/g) ?? []).join('\n');
}
