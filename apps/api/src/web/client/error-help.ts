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
  web_push_disabled: 'This server has no Web Push keys configured, so it cannot notify browsers.',
};

/** An API error in plain words, with its code for support. */
export function explain(error: { code?: string; message?: string } | undefined, fallback: string): string {
  const code = error?.code;
  const text = (code ? ERROR_HELP[code] : undefined) ?? error?.message ?? fallback;
  return code ? `${text} (${code})` : text;
}
