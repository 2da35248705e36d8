import { OAuthErrorCode } from '@mailpush/errors';

/** A token, userinfo or revocation reply is a few KB; anything past this is refused unread. */
export const MAX_OAUTH_RESPONSE_BYTES = 64 * 1024;

function tooLarge(): Error {
  return Object.assign(new Error('OAuth response larger than allowed'), { code: OAuthErrorCode.ResponseTooLarge });
}

/**
 * `fetch` for oauth4webapi's `customFetch`: the body is read into memory up to a bound (a hostile
 * or broken server cannot stream us gigabytes) and handed on as a fresh Response. Redirects are
 * never followed (oauth4webapi asks for `redirect: manual`), so a configured endpoint cannot
 * bounce the request elsewhere.
 */
export async function boundedFetch(
  url: string,
  init: RequestInit,
  maxBytes = MAX_OAUTH_RESPONSE_BYTES,
): Promise<Response> {
  const response = await fetch(url, { ...init, redirect: 'manual' });
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  return new Response(size > 0 ? Buffer.concat(chunks) : null, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
