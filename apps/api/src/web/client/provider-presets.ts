export interface ProviderPreset {
  id: string;
  name: string;
  host: string;
  hint: string;
}

export const PROVIDER_PRESETS: readonly ProviderPreset[] = [
  {
    id: 'gmail',
    name: 'Gmail',
    host: 'imap.gmail.com',
    hint: 'Gmail needs 2-step verification and an app password (Google Account → Security → App passwords).',
  },
  {
    id: 'outlook',
    name: 'Outlook / Microsoft 365',
    host: 'outlook.office365.com',
    hint: 'Microsoft 365 accounts usually require OAuth; a password works only where IMAP basic auth is still enabled.',
  },
  {
    id: 'yahoo',
    name: 'Yahoo',
    host: 'imap.mail.yahoo.com',
    hint: 'Yahoo needs an app password (Account security → Generate app password).',
  },
  {
    id: 'icloud',
    name: 'iCloud',
    host: 'imap.mail.me.com',
    hint: 'iCloud needs an app-specific password (appleid.apple.com → Sign-In and Security).',
  },
  {
    id: 'fastmail',
    name: 'Fastmail',
    host: 'imap.fastmail.com',
    hint: 'Fastmail needs an app password (Settings → Privacy & Security → App passwords).',
  },
  {
    id: 'other',
    name: 'Other IMAP server',
    host: '',
    hint: 'Your provider documents its IMAP server name; port 993 with TLS is the usual setting.',
  },
];

/** What a person can do about each error code the API answers with. */
export const ERROR_HELP: Readonly<Record<string, string>> = {
  auth_failed:
    'The server rejected the username or password. Many providers need an app password instead of your normal one.',
  connect_failed: 'Could not reach the mail server. Check the host name and port.',
  tls_failed: 'The secure connection to the mail server failed. Check the port (993 for TLS) and the TLS setting.',
  timeout: 'The mail server did not answer in time. Try again in a moment.',
  host_not_found: 'That host name does not exist. Check the IMAP host.',
  host_not_allowed: 'That server is on a private network, which this relay does not allow.',
  rate_limited: 'The mail server asked us to slow down. Try again in a few minutes.',
  unauthorized: 'The API key is missing or wrong.',
  link_expired: 'This link is unknown, ended or expired. Ask the app for a new one.',
};
