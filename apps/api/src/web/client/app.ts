import { ApiClient } from './api.client.js';
import { byId, say } from './dom.js';
import { ERROR_HELP, PROVIDER_PRESETS } from './provider-presets.js';

interface AccountView {
  id: string;
  email: string;
  status: string;
  lastError: string | null;
  lastEventAt: string | null;
}

const KEY_STORAGE = 'mailpush.apiKey';
const REFRESH_MS = 5000;

const keyInput = byId('api-key', HTMLInputElement);
const form = byId('link-form', HTMLFormElement);
const provider = byId('provider', HTMLSelectElement);
const submit = byId('submit', HTMLButtonElement);
const result = byId('result', HTMLParagraphElement);
const field = (id: string) => byId(id, HTMLInputElement);

const LINK_STORAGE = 'mailpush.linkToken';
// Opened from an app's link (/link#mpl_…): no API key. The token moves from the address bar into
// this tab's sessionStorage at once, so it is neither in the history nor lost on a reload.
const onLinkPage = location.pathname === '/link';
const linkToken = onLinkPage ? takeLinkToken() : null;

function takeLinkToken(): string | null {
  if (/^#mpl_[A-Za-z0-9_-]{20,200}$/.test(location.hash)) {
    sessionStorage.setItem(LINK_STORAGE, location.hash.slice(1));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(LINK_STORAGE);
}
const api = new ApiClient(() => linkToken ?? keyInput.value.trim());

function expired(): void {
  say(result, ERROR_HELP.link_expired ?? '', 'err');
  submit.disabled = true;
}

if (onLinkPage) {
  byId('key-section', HTMLElement).hidden = true;
  byId('accounts-section', HTMLElement).hidden = true;
  if (!linkToken) expired();
  else
    void api.call('GET', '/v1/link-session').then(
      (res) => {
        if (res.status !== 200) expired();
      },
      () => expired(),
    );
}

keyInput.value = sessionStorage.getItem(KEY_STORAGE) ?? '';
keyInput.addEventListener('change', () => {
  sessionStorage.setItem(KEY_STORAGE, keyInput.value.trim());
  void refresh();
});

for (const preset of PROVIDER_PRESETS) provider.add(new Option(preset.name, preset.id, false, preset.id === 'other'));
function applyPreset(): void {
  const preset = PROVIDER_PRESETS.find((p) => p.id === provider.value);
  if (!preset) return;
  byId('provider-hint', HTMLParagraphElement).textContent = preset.hint;
  if (preset.host) {
    field('host').value = preset.host;
    field('port').value = '993';
    field('tls').checked = true;
  }
}
provider.addEventListener('change', applyPreset);
applyPreset();

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void linkMailbox();
});

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
    const res = await api.call<{ email: string }>(
      'POST',
      linkToken ? '/v1/link-session/accounts' : '/v1/accounts',
      body,
    );
    if (res.status === 201) {
      field('password').value = '';
      if (linkToken) {
        say(result, `Linked ${res.body.email}. Link another, or go back to the app.`, 'ok');
        return;
      }
      say(result, `Linked ${res.body.email}. New mail will now reach your devices.`, 'ok');
      await refresh();
    } else {
      const code = res.body.error?.code;
      const text = (code ? ERROR_HELP[code] : undefined) ?? res.body.error?.message ?? 'Linking failed.';
      say(result, code ? `${text} (${code})` : text, 'err');
    }
  } catch {
    say(result, 'Could not reach mailpush. Is it running?', 'err');
  } finally {
    submit.disabled = false;
  }
}

async function refresh(): Promise<void> {
  if (onLinkPage || !keyInput.value.trim()) return;
  const res = await api.call<{ accounts?: AccountView[] }>('GET', '/v1/accounts');
  const tbody = byId('accounts', HTMLTableElement).tBodies[0];
  if (!tbody) return;
  tbody.textContent = '';
  for (const a of res.body.accounts ?? []) {
    const tr = tbody.insertRow();
    tr.dataset.id = a.id;
    const cells = [
      a.email,
      a.status + (a.lastError ? ` — ${a.lastError}` : ''),
      a.lastEventAt ? new Date(a.lastEventAt).toLocaleString() : '—',
    ];
    for (const text of cells) tr.insertCell().textContent = text;
    const remove = document.createElement('button');
    remove.className = 'link';
    remove.type = 'button';
    remove.textContent = 'Remove';
    remove.addEventListener('click', () => {
      if (confirm(`Stop notifications for ${a.email} and erase its password?`))
        void api.call('DELETE', `/v1/accounts/${a.id}`).then(refresh);
    });
    tr.insertCell().appendChild(remove);
  }
}

void refresh();
setInterval(() => void refresh().catch(() => undefined), REFRESH_MS);
