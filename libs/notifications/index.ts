export { buildMailNotification, truncateUtf8 } from './mail-notification.builder';
