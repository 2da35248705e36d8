/** The plain-words pages the OAuth callback (and start) answer with when something went wrong. */
export type OAuthFailure =
  | 'access_denied'
  | 'provider_error'
  | 'state_invalid'
  | 'link_expired'
  | 'provider_unavailable'
  | 'exchange_failed'
  | 'no_address'
  | 'no_refresh_token'
  | 'wrong_mailbox'
  | 'imap_refused'
  | 'account_not_found'
  | 'mailbox_limit'
  | 'too_many_attempts'
  | 'bad_request';

const PAGES: Record<OAuthFailure, { status: number; title: string; text: string }> = {
  access_denied: {
    status: 403,
    title: 'Access not granted',
    text: 'You did not allow access to your mailbox, so nothing was linked. Start again if you change your mind.',
  },
  provider_error: {
    status: 502,
    title: 'The provider said no',
    text: 'Your mail provider ended the sign-in with an error. Nothing was linked; try again in a moment.',
  },
  state_invalid: {
    status: 400,
    title: 'This sign-in has expired',
    text: 'This sign-in was already used, or took longer than 10 minutes. Nothing was linked; start again from the app or the web page.',
  },
  link_expired: {
    status: 401,
    title: 'This link has expired',
    text: 'The link you opened is no longer valid. Ask the app for a new one.',
  },
  provider_unavailable: {
    status: 404,
    title: 'Sign-in not available',
    text: 'Signing in with this provider is not set up on this server. Use an app password instead.',
  },
  exchange_failed: {
    status: 502,
    title: 'Sign-in could not be completed',
    text: 'Your mail provider did not confirm the sign-in. Nothing was linked; please try again.',
  },
  no_address: {
    status: 502,
    title: 'No mailbox address',
    text: 'Your mail provider did not tell us which mailbox you signed in to, so nothing was linked.',
  },
  no_refresh_token: {
    status: 502,
    title: 'Offline access not granted',
    text: 'Your mail provider granted access only for a moment, not for watching your mailbox. Nothing was linked.',
  },
  wrong_mailbox: {
    status: 409,
    title: 'A different mailbox',
    text: 'You signed in to a different mailbox than the one to reconnect. Sign in with the address shown in the notification.',
  },
  imap_refused: {
    status: 502,
    title: 'The mail server refused the sign-in',
    text: 'You signed in, but the mail server would not let us read your mailbox with it (IMAP may be switched off for your account). Nothing was linked.',
  },
  account_not_found: {
    status: 404,
    title: 'Mailbox not found',
    text: 'The mailbox to reconnect no longer exists. Link it again from the app.',
  },
  mailbox_limit: {
    status: 422,
    title: 'Too many mailboxes',
    text: 'You already have as many mailboxes linked as this relay allows. Remove one, then sign in again.',
  },
  too_many_attempts: {
    status: 429,
    title: 'Too many sign-in attempts',
    text: 'There were too many sign-in attempts in a short time. Nothing was linked; wait a few minutes and try again.',
  },
  bad_request: {
    status: 400,
    title: 'Something is missing',
    text: 'This address is incomplete. Start the sign-in again from the app or the web page.',
  },
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function failurePage(failure: OAuthFailure, detail?: string): { status: number; html: string } {
  const page = PAGES[failure];
  const extra = detail ? `\n<p>${escapeHtml(detail)}</p>` : '';
  return {
    status: page.status,
    html: `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)} · mailpush</title></head>
<body data-outcome="${failure}">
<h1>${escapeHtml(page.title)}</h1>
<p>${escapeHtml(page.text)}</p>${extra}
<p><a href="/link">Back to linking a mailbox</a></p>
</body></html>
`,
  };
}

/** Nothing on these pages loads anything; they are never framed. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;
