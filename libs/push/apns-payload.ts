import type { PushNotification } from './push-notification';

interface ApsAlert {
  title?: string;
  body?: string;
  'loc-key'?: string;
  'loc-args'?: string[];
}

/**
 * The JSON body of an alert push: the custom data keys beside `aps` (which always wins over a data
 * key of that name). `mutable-content` lets a Notification Service Extension fetch or decrypt
 * details before display. APNs does not require `body`: a loc-key or title-only alert is valid.
 */
export function apnsPayload(n: PushNotification): string {
  const alert: ApsAlert = {};
  if (n.title) alert.title = n.title;
  if (n.body) alert.body = n.body;
  if (n.bodyLocKey) alert['loc-key'] = n.bodyLocKey;
  if (n.bodyLocArgs) alert['loc-args'] = n.bodyLocArgs;
  const aps: Record<string, unknown> = { alert, 'thread-id': n.threadId, 'mutable-content': 1 };
  if (n.badge !== undefined) aps['badge'] = n.badge;
  return JSON.stringify({ ...n.data, aps });
}
