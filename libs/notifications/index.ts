export {
  buildMailNotification,
  buildBurstSummaryNotification,
  truncateUtf8,
  LOC_KEYS,
  type BurstSummary,
} from './mail-notification.builder';
export { fitNotification } from './payload-fit';
