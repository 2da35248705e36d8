import type { ApiClient } from './api.client.js';
import { explain } from './error-help.js';

export type PrivacyTier = 'full' | 'sender' | 'none';

/** The service worker that shows the notifications; at the root so that its scope is the whole site. */
const SERVICE_WORKER_URL = '/service-worker.js';

/**
 * "Notify this browser": registers the service worker, subscribes with the server's VAPID key and
 * registers the subscription as a `web` device of the user. Resolves to the words to show.
 */
export async function notifyThisBrowser(api: ApiClient, privacy: PrivacyTier): Promise<{ ok: boolean; text: string }> {
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    return { ok: false, text: 'This browser cannot receive Web Push notifications.' };
  }
  const keyRes = await fetch('/v1/vapid-public-key');
  const key = (await keyRes.json()) as { publicKey?: string; error?: { code?: string; message?: string } };
  if (!keyRes.ok || !key.publicKey) return { ok: false, text: explain(key.error, 'Web Push is not available.') };

  const permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    return {
      ok: false,
      text: 'Notifications are blocked for this site. Allow them in the browser’s site settings, then try again.',
    };
  }
  await navigator.serviceWorker.register(SERVICE_WORKER_URL);
  const registration = await navigator.serviceWorker.ready;
  const applicationServerKey = base64UrlToBytes(key.publicKey);
  const existing = await registration.pushManager.getSubscription();
  // A subscription made with another server key (the operator rotated VAPID keys) cannot be used.
  if (existing && !sameKey(existing.options.applicationServerKey, applicationServerKey)) await existing.unsubscribe();
  const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey });
  const json = subscription.toJSON();
  const res = await api.call<{ id: string }>('POST', api.routes.devices, {
    platform: 'web',
    subscription: { endpoint: json.endpoint, keys: json.keys },
    privacy,
  });
  if (res.status !== 200 && res.status !== 201) {
    return { ok: false, text: explain(res.body.error, 'This browser could not be registered.') };
  }
  return { ok: true, text: 'This browser will now show a notification for each new message.' };
}

function base64UrlToBytes(value: string): Uint8Array<ArrayBuffer> {
  const base64 = value
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(value.length / 4) * 4, '=');
  const binary = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function sameKey(a: ArrayBuffer | null, b: Uint8Array): boolean {
  if (!a) return false;
  const bytes = new Uint8Array(a);
  return bytes.length === b.length && bytes.every((v, i) => v === b[i]);
}
