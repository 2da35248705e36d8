export {
  buildMailNotification,
  buildBurstSummaryNotification,
  buildReauthNotification,
  truncateUtf8,
  LOC_KEYS,
  type BurstSummary,
  type ReauthNotice,
} from './mail-notification.builder';
