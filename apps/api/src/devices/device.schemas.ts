import { z } from 'zod';

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

export const createDeviceSchema = z.discriminatedUnion('platform', [iosDevice, androidDevice], {
  error: 'platform must be "ios" or "android"',
});

export type CreateDeviceBody = z.output<typeof createDeviceSchema>;
