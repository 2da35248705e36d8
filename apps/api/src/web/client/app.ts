import { AccountsView, statusWords } from './accounts-view.js';
import { ApiClient, KEY_ROUTES, LINK_ROUTES, type AccountView } from './api.client.js';
import { notifyThisBrowser, type PrivacyTier } from './browser-push.js';
import { byId, say } from './dom.js';
import { ERROR_HELP, explain } from './error-help.js';
import { EventStreamClient } from './event-stream.client.js';
import { liveList } from './live-list.js';
import { ProviderPicker, type ProviderView } from './provider-picker.js';

const KEY_STORAGE = 'mailpush.apiKey';
const LINK_STORAGE = 'mailpush.linkToken';
const LINK_TOKEN = /^mpl_[A-Za-z0-9_-]{20,200}$/;

const keyInput = byId('api-key', HTMLInputElement);
const form = byId('link-form', HTMLFormElement);
const submit = byId('submit', HTMLButtonElement);
const result = byId('result', HTMLParagraphElement);
const accountsStatus = byId('accounts-status', HTMLParagraphElement);
const linkAnother = byId('link-another', HTMLButtonElement);
const section = (id: string) => byId(id, HTMLElement);
const field = (id: string) => byId(id, HTMLInputElement);

// Opened from an app's link (/link#mpl_…): no API key. The token moves from the address bar into
// this tab's sessionStorage at once, so it is neither in the history nor lost on a reload (or on
// the way back from a provider's sign-in page).
const onLinkPage = location.pathname === '/link';
const linkToken = onLinkPage ? takeLinkToken() : null;
/** A password account's Reconnect link (`/link?account=<id>#mpl_…`): a token that may only replace its password. */
const reconnectId = onLinkPage ? new URLSearchParams(location.search).get('account') : null;
const api = new ApiClient(() => linkToken ?? keyInput.value.trim(), linkToken ? LINK_ROUTES : KEY_ROUTES);
const accounts = new AccountsView(api);
const picker = new ProviderPicker((provider) => void signIn(provider));
accounts.onChange(() => showManagement(managing));
let stream: EventStreamClient | undefined;

function takeLinkToken(): string | null {
  const fromUrl = location.hash.slice(1);
  if (LINK_TOKEN.test(fromUrl)) {
    sessionStorage.setItem(LINK_STORAGE, fromUrl);
    history.replaceState(null, '', location.pathname + location.search);
  }
  const token = sessionStorage.getItem(LINK_STORAGE);
  return token && LINK_TOKEN.test(token) ? token : null;
}

let managing = false;

/** The accounts list, Notify this browser and the live list: once the credential works and a mailbox is linked. */
function showManagement(visible: boolean): void {
  managing = visible;
  const any = accounts.accounts.length > 0;
  section('accounts-section').hidden = !visible || (!any && onLinkPage);
  for (const id of ['notify-section', 'live-section']) section(id).hidden = !visible || !any;
}

function linkExpired(): void {
  say(result, ERROR_HELP.link_expired ?? '', 'err');
  say(byId('session-status', HTMLParagraphElement), '');
  submit.disabled = true;
  form.hidden = false;
  showManagement(false);
  accounts.stop();
  stream?.stop();
}

function startStream(): void {
  stream?.stop();
  const list = liveList((id) => accounts.email(id));
  stream = new EventStreamClient(api.routes.events, () => api.headers(), {
    mail: (event) => {
      list.mail(event);
      void accounts.refresh();
    },
    reauth: (event) => {
      list.reauth(event);
      void accounts.refresh();
    },
    state: (state, detail) => {
      list.state(state, detail);
      if (state === 'ended' && linkToken) linkExpired();
    },
  });
  stream.start();
}

/** The form is the first thing on a link page with no mailbox yet; afterwards "Link another" opens it. */
function showForm(visible: boolean): void {
  form.hidden = !visible;
  linkAnother.hidden = visible;
  if (visible) byId('provider', HTMLSelectElement).focus();
}

async function openLinkSession(): Promise<void> {
  section('key-section').hidden = true;
  const linked = new URLSearchParams(location.search).get('linked');
  const res = linkToken ? await api.call<{ expiresAt: string }>('GET', '/v1/link-session') : undefined;
  if (res?.status !== 200 || !res.body.expiresAt) {
    // Back from a Reconnect link (used up by the re-arm) or after the session ended: the sign-in
    // itself worked, there is just nothing more this tab may show.
    if (!linked) return linkExpired();
    form.hidden = true;
    return say(
      byId('session-status', HTMLParagraphElement),
      'Signed in: your mailbox is linked. You can go back to the app.',
      'ok',
    );
  }
  say(
    byId('session-status', HTMLParagraphElement),
    `This link works until ${new Date(res.body.expiresAt).toLocaleTimeString()}.`,
  );
  showManagement(true);
  if (linked) followLinked(linked);
  if (!(await accounts.refresh())) return linkExpired();
  showForm(accounts.accounts.length === 0 && !linked);
  startStream();
}

/** Back from a provider's sign-in (`/link?linked=<id>`): that mailbox's status, live, until it is watched. */
function followLinked(accountId: string): void {
  let announced = '';
  accounts.onChange((list: AccountView[]) => {
    const account = list.find((a) => a.id === accountId);
    const text = account
      ? `Signed in: ${account.email} — ${statusWords(account)}`
      : 'That mailbox is not linked any more.';
    if (text !== announced) say(accountsStatus, text, account?.status === 'auth_error' ? 'err' : 'ok');
    announced = text;
  });
}

/** The Reconnect form: only the password (and username) of the one mailbox the link is scoped to. */
async function openReconnect(accountId: string): Promise<void> {
  section('key-section').hidden = true;
  showManagement(false);
  if (!linkToken) return linkExpired();
  const res = await api.call<{ accountId: string }>('GET', '/v1/link-session');
  if (res.status !== 200 || res.body.accountId !== accountId) return linkExpired();
  byId('form-title', HTMLHeadingElement).textContent = 'Reconnect your mailbox';
  for (const id of ['provider-part', 'email-label', 'server-part']) section(id).hidden = true;
  submit.textContent = 'Reconnect';
  say(
    byId('session-status', HTMLParagraphElement),
    'The mail server stopped accepting the saved password. Type the new one (or a new app password).',
  );
  field('password').focus();
}

async function reconnect(accountId: string): Promise<void> {
  const username = field('username').value.trim();
  const body = { auth: { type: 'password', password: field('password').value, ...(username ? { username } : {}) } };
  submit.disabled = true;
  say(result, 'Checking your login with the mail server…');
  try {
    const res = await api.call<{ email: string }>(
      'PUT',
      `${LINK_ROUTES.accounts}/${encodeURIComponent(accountId)}/credentials`,
      body,
    );
    if (res.status === 401 || res.status === 403) return linkExpired();
    if (res.status !== 200) return say(result, explain(res.body.error, 'Reconnecting failed.'), 'err');
    field('password').value = '';
    sessionStorage.removeItem(LINK_STORAGE);
    say(result, `Reconnected ${res.body.email ?? 'your mailbox'}: new mail will reach your devices again.`, 'ok');
    submit.hidden = true;
  } catch {
    say(result, 'Could not reach mailpush. Is it running?', 'err');
  } finally {
    submit.disabled = false;
  }
}

async function openWithKey(): Promise<void> {
  keyInput.value = sessionStorage.getItem(KEY_STORAGE) ?? '';
  keyInput.addEventListener('change', () => {
    sessionStorage.setItem(KEY_STORAGE, keyInput.value.trim());
    void useKey();
  });
  await useKey();
}

async function useKey(): Promise<void> {
  if (!keyInput.value.trim()) return showManagement(false);
  const ok = await accounts.refresh();
  showManagement(ok);
  if (!ok) return say(result, ERROR_HELP.unauthorized ?? '', 'err');
  startStream();
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void (reconnectId ? reconnect(reconnectId) : linkMailbox());
});
linkAnother.addEventListener('click', () => showForm(true));
byId('notify', HTMLButtonElement).addEventListener('click', () => void notify());

async function linkMailbox(): Promise<void> {
  if (!linkToken && !keyInput.value.trim()) {
    say(result, 'Enter your API key first.', 'err');
    keyInput.focus();
    return;
  }
  const email = field('email').value.trim();
  const body = {
    email,
    provider: 'imap',
    imap: { host: field('host').value.trim(), port: Number(field('port').value), tls: field('tls').checked },
    auth: { type: 'password', username: field('username').value.trim() || email, password: field('password').value },
  };
  submit.disabled = true;
  say(result, 'Checking your login with the mail server…');
  try {
    const res = await api.call<{ email: string }>('POST', api.routes.accounts, body);
    if (res.status !== 201) return say(result, explain(res.body.error, 'Linking failed.'), 'err');
    field('password').value = '';
    if (linkToken) {
      say(result, '');
      say(accountsStatus, `Linked ${res.body.email ?? email}. Link another, or go back to the app.`, 'ok');
      showForm(false);
    } else {
      say(result, `Linked ${res.body.email ?? email}. New mail will now reach your devices.`, 'ok');
    }
    await accounts.refresh();
  } catch {
    say(result, 'Could not reach mailpush. Is it running?', 'err');
  } finally {
    submit.disabled = false;
  }
}

/**
 * Sign-in with the provider (OAuth2): the link token rides to the start URL and comes back in this
 * tab's sessionStorage. With an API key, a link session is made for the round trip.
 */
async function signIn(provider: ProviderView): Promise<void> {
  let token = linkToken;
  if (!token) {
    if (!keyInput.value.trim()) return say(result, 'Enter your API key first.', 'err');
    const res = await api.call<{ url: string }>('POST', '/v1/link-sessions', {});
    token = res.body.url?.split('#')[1] ?? null;
    if (res.status !== 201 || !token)
      return say(result, explain(res.body.error, 'Could not start the sign-in.'), 'err');
    sessionStorage.setItem(LINK_STORAGE, token);
  }
  const params = new URLSearchParams({ link: token });
  const email = field('email').value.trim();
  if (email) params.set('login_hint', email);
  say(result, `Opening ${provider.name}…`);
  location.assign(`/v1/oauth/${encodeURIComponent(provider.id)}/start?${params.toString()}`);
}

async function notify(): Promise<void> {
  const button = byId('notify', HTMLButtonElement);
  const status = byId('notify-status', HTMLParagraphElement);
  button.disabled = true;
  say(status, 'Asking this browser for permission…');
  try {
    const outcome = await notifyThisBrowser(api, byId('privacy', HTMLSelectElement).value as PrivacyTier);
    say(status, outcome.text, outcome.ok ? 'ok' : 'err');
  } catch (err) {
    say(status, `This browser could not subscribe: ${err instanceof Error ? err.message : String(err)}`, 'err');
  } finally {
    button.disabled = false;
  }
}

async function start(): Promise<void> {
  await picker.load().catch(() => say(result, 'Could not load the list of providers.', 'err'));
  if (reconnectId) await openReconnect(reconnectId);
  else if (onLinkPage) await openLinkSession();
  else await openWithKey();
}

void start().catch(() => say(result, 'Could not reach mailpush. Is it running?', 'err'));
