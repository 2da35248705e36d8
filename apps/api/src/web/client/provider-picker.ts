import { byId } from './dom.js';

/** A preset as `GET /v1/providers` lists it. */
export interface ProviderView {
  id: string;
  name: string;
  imap: { host: string; port: number; tls: boolean };
  oauth: boolean;
  hint?: string;
}

/** The company behind a sign-in button, where it differs from the mailbox's name. */
const SIGN_IN_BRAND: Readonly<Record<string, string>> = { gmail: 'Google', outlook: 'Microsoft', yahoo: 'Yahoo' };

/**
 * The provider list, built from `GET /v1/providers`: picking one fills the server settings and
 * shows its hint, and "Sign in with …" when the operator configured OAuth for it.
 */
export class ProviderPicker {
  private providers: ProviderView[] = [];
  private readonly select = byId('provider', HTMLSelectElement);
  private readonly oauthPath = byId('oauth-path', HTMLDivElement);
  private readonly oauthButton = byId('oauth-signin', HTMLButtonElement);

  constructor(onSignIn: (provider: ProviderView) => void) {
    this.select.addEventListener('change', () => this.apply());
    this.oauthButton.addEventListener('click', () => {
      const provider = this.selected();
      if (provider?.oauth) onSignIn(provider);
    });
  }

  async load(): Promise<void> {
    const res = await fetch('/v1/providers');
    const body = (await res.json()) as { providers?: ProviderView[] };
    this.providers = res.ok ? (body.providers ?? []) : [];
    if (!this.providers.some((p) => p.id === 'other')) {
      this.providers.push({
        id: 'other',
        name: 'Other IMAP server',
        imap: { host: '', port: 993, tls: true },
        oauth: false,
      });
    }
    this.select.textContent = '';
    for (const p of this.providers) this.select.add(new Option(p.name, p.id, false, p.id === 'other'));
    this.select.value = 'other';
    this.apply();
  }

  selected(): ProviderView | undefined {
    return this.providers.find((p) => p.id === this.select.value);
  }

  private apply(): void {
    const provider = this.selected();
    if (!provider) return;
    byId('provider-hint', HTMLParagraphElement).textContent = provider.hint ?? '';
    this.oauthPath.hidden = !provider.oauth;
    this.oauthButton.textContent = `Sign in with ${SIGN_IN_BRAND[provider.id] ?? provider.name}`;
    if (provider.imap.host) {
      byId('host', HTMLInputElement).value = provider.imap.host;
      byId('port', HTMLInputElement).value = String(provider.imap.port);
      byId('tls', HTMLInputElement).checked = provider.imap.tls;
    }
  }
}
