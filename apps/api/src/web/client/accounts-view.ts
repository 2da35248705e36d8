import type { AccountView, ApiClient } from './api.client.js';
import { byId, say } from './dom.js';
import { explain } from './error-help.js';

/** While an account is on its way (connecting, retrying), its status is re-read this often. */
const FAST_REFRESH_MS = 2000;
const SLOW_REFRESH_MS = 15_000;
const SETTLING = new Set(['connecting', 'backoff']);

export function statusWords(a: AccountView): string {
  const why = a.lastError ? ` — ${a.lastError}` : '';
  switch (a.status) {
    case 'connecting':
      return 'Connecting…';
    case 'idle':
      return 'Watching';
    case 'polling':
      return 'Watching (the server has no push: checked regularly)';
    case 'backoff':
      return `${a.nextAttemptAt ? `Retrying at ${new Date(a.nextAttemptAt).toLocaleTimeString()}` : 'Retrying'}${why}`;
    case 'auth_error':
      return `Sign-in refused${why}`;
    case 'disabled':
      return 'Paused';
    default:
      return a.status + why;
  }
}

/**
 * The person's mailboxes with their live status and last new mail, each with a Remove button.
 * Re-read every 2 s while one is settling, else every 15 s, and at once on new mail.
 */
export class AccountsView {
  accounts: AccountView[] = [];
  private timer: number | undefined;
  private readonly tbody: HTMLTableSectionElement;
  private readonly status = byId('accounts-status', HTMLParagraphElement);
  private readonly listeners: ((accounts: AccountView[]) => void)[] = [];

  constructor(private readonly api: ApiClient) {
    const tbody = byId('accounts', HTMLTableElement).tBodies[0];
    if (!tbody) throw new Error('#accounts has no tbody');
    this.tbody = tbody;
  }

  onChange(listener: (accounts: AccountView[]) => void): void {
    this.listeners.push(listener);
  }

  /** Reads the list now and schedules the next read; resolves to false when the credential is refused. */
  async refresh(): Promise<boolean> {
    window.clearTimeout(this.timer);
    try {
      const res = await this.api.call<{ accounts: AccountView[] }>('GET', this.api.routes.accounts);
      if (res.status === 401) return false;
      if (res.status === 200) {
        this.accounts = res.body.accounts ?? [];
        this.render();
        for (const listener of this.listeners) listener(this.accounts);
      }
    } catch {
      // Offline for a moment: the next read tries again.
    }
    const settling = this.accounts.some((a) => SETTLING.has(a.status));
    this.timer = window.setTimeout(() => void this.refresh(), settling ? FAST_REFRESH_MS : SLOW_REFRESH_MS);
    return true;
  }

  stop(): void {
    window.clearTimeout(this.timer);
  }

  email(accountId: string): string | undefined {
    return this.accounts.find((a) => a.id === accountId)?.email;
  }

  private render(): void {
    byId('accounts-empty', HTMLParagraphElement).hidden = this.accounts.length > 0;
    byId('accounts', HTMLTableElement).hidden = this.accounts.length === 0;
    this.tbody.textContent = '';
    for (const a of this.accounts) {
      const tr = this.tbody.insertRow();
      tr.dataset.id = a.id;
      tr.insertCell().textContent = a.email;
      const status = tr.insertCell();
      status.dataset.status = a.status;
      status.dataset.label = 'Status';
      status.textContent = statusWords(a);
      const last = tr.insertCell();
      last.dataset.label = 'Last new mail';
      last.textContent = a.lastEventAt ? new Date(a.lastEventAt).toLocaleString() : '—';
      const remove = document.createElement('button');
      remove.className = 'link';
      remove.type = 'button';
      remove.textContent = 'Remove';
      remove.setAttribute('aria-label', `Remove ${a.email}`);
      remove.addEventListener('click', () => void this.remove(a));
      tr.insertCell().appendChild(remove);
    }
  }

  private async remove(a: AccountView): Promise<void> {
    if (!confirm(`Stop notifications for ${a.email} and erase its password?`)) return;
    const res = await this.api.call('DELETE', `${this.api.routes.accounts}/${encodeURIComponent(a.id)}`);
    if (res.status === 204 || res.status === 404) say(this.status, `Removed ${a.email}.`, 'ok');
    else say(this.status, explain(res.body.error, `Could not remove ${a.email}.`), 'err');
    await this.refresh();
  }
}
