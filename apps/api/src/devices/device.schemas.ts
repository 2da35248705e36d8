import { z } from 'zod';
import { MAX_ENDPOINT_LENGTH, subscriptionProblem } from '@mailpush/push';

const privacy = z.enum(['full', 'sender', 'none']).default('full');

/** APNs device tokens are 32 bytes today (64 hex chars); Apple reserves the right to grow them. */
const iosDevice = z.strictObject({
  platform: z.literal('ios'),
  token: z
    .string()
    .regex(/^[0-9a-fA-F]{64,200}$/, 'must be the hex APNs device token (64+ hex characters)')
    .transform((t) => t.toLowerCase()),
  environment: z.enum(['sandbox', 'production']).default('production'),
  privacy,
});

const androidDevice = z.strictObject({
  platform: z.literal('android'),
  token: z.string().regex(/^[A-Za-z0-9_:.-]{20,4096}$/, 'must be the FCM registration token'),
  privacy,
});

const base64url = z
  .string()
  .regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url')
  .max(200);

/** What a browser's `PushSubscription.toJSON()` gives (extra members such as `expirationTime` are dropped). */
const subscription = z
  .object({
    endpoint: z.string().max(MAX_ENDPOINT_LENGTH),
    keys: z.object({ p256dh: base64url, auth: base64url }),
  })
  .transform((s) => ({
    endpoint: s.endpoint,
    keys: { p256dh: s.keys.p256dh.replace(/=+$/, ''), auth: s.keys.auth.replace(/=+$/, '') },
  }))
  .superRefine((s, ctx) => {
    const problem = subscriptionProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A browser's Web Push subscription: what a link session may register (it has no phone token to give). */
export const webDeviceSchema = z.strictObject({
  platform: z.literal('web'),
  subscription,
  privacy,
});

export const createDeviceSchema = z.discriminatedUnion('platform', [iosDevice, androidDevice, webDeviceSchema], {
  error: 'platform must be "ios", "android" or "web"',
});

export type CreateDeviceBody = z.output<typeof createDeviceSchema>;
export type WebDeviceBody = z.output<typeof webDeviceSchema>;
