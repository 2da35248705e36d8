/** What every error answer of the API carries. */
export interface ApiErrorBody {
  error?: { code?: string; message?: string };
}

export interface ApiAnswer<T> {
  status: number;
  body: T & ApiErrorBody;
}

/** The REST API as this page uses it, authorised by a user's API key (`mpk_…`) or a link token (`mpl_…`). */
export class ApiClient {
  constructor(private readonly credential: () => string) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.credential()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: parseBody<T>(text) };
  }
}

function parseBody<T>(text: string): T & ApiErrorBody {
  if (!text) return {} as T & ApiErrorBody;
  try {
    return JSON.parse(text) as T & ApiErrorBody;
  } catch {
    return { error: { message: 'The server answered something that is not JSON.' } } as T & ApiErrorBody;
  }
}
