import type { AccountStatus, ApnsEnvironment, Platform, PrivacyTier } from './models';

/** Each union's members, checked complete by the compiler: what a hash field read back may hold. */
const ACCOUNT_STATUSES: Record<AccountStatus, true> = {
  connecting: true,
  idle: true,
  polling: true,
  backoff: true,
  auth_error: true,
  disabled: true,
};
const PLATFORMS: Record<Platform, true> = { ios: true, android: true, web: true };
const APNS_ENVIRONMENTS: Record<ApnsEnvironment, true> = { sandbox: true, production: true };
const PRIVACY_TIERS: Record<PrivacyTier, true> = { full: true, sender: true, none: true };

export const isAccountStatus = (value: string): value is AccountStatus => Object.hasOwn(ACCOUNT_STATUSES, value);
export const isPlatform = (value: string): value is Platform => Object.hasOwn(PLATFORMS, value);
export const isApnsEnvironment = (value: string): value is ApnsEnvironment => Object.hasOwn(APNS_ENVIRONMENTS, value);
export const isPrivacyTier = (value: string): value is PrivacyTier => Object.hasOwn(PRIVACY_TIERS, value);
