/** What every error answer of the API carries. */
export interface ApiErrorBody {
  error?: { code?: string; message?: string };
}

export interface ApiAnswer<T> {
  status: number;
  body: Partial<T> & ApiErrorBody;
}

/** An account as the API presents it (the fields this page shows). */
export interface AccountView {
  id: string;
  email: string;
  status: string;
  lastError: string | null;
  nextAttemptAt: string | null;
  lastEventAt: string | null;
}

/** Where this page's calls go: a user's API key reaches `/v1/…`, a link token `/v1/link-session/…`. */
export interface Routes {
  accounts: string;
  devices: string;
  events: string;
}

export const KEY_ROUTES: Routes = { accounts: '/v1/accounts', devices: '/v1/devices', events: '/v1/events' };
export const LINK_ROUTES: Routes = {
  accounts: '/v1/link-session/accounts',
  devices: '/v1/link-session/devices',
  events: '/v1/link-session/events',
};

/** The REST API as this page uses it, authorised by a user's API key (`mpk_…`) or a link token (`mpl_…`). */
export class ApiClient {
  constructor(
    readonly credential: () => string,
    readonly routes: Routes,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const res = await fetch(path, {
      method,
      headers: this.headers(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: parseBody<T>(await res.text()) };
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.credential()}`, ...extra };
  }
}

function parseBody<T>(text: string): Partial<T> & ApiErrorBody {
  let value: unknown = {};
  try {
    if (text) value = JSON.parse(text);
  } catch {
    value = { error: { message: 'The server answered something that is not JSON.' } };
  }
  // The API's answers are trusted to have the documented shape; every field is still optional here.
  return (typeof value === 'object' && value !== null ? value : {}) as Partial<T> & ApiErrorBody;
}
