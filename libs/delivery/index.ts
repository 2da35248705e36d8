export { BurstBudget, type BurstDecision } from './burst-budget';
export {
  DeadLetterRepository,
  DEAD_LETTER_MAX,
  type DeadLetter,
  type DeadLetterJob,
  type NewDeadLetter,
} from './dead-letter.repository';
export { UserEventsPublisher, toUserMailEvent, type UserMailEvent, type UserReauthEvent } from './user-events';
export {
  createDeliveriesQueue,
  type DeliveriesQueue,
  type DeliveriesJobData,
  type DeliveriesJobName,
} from './deliveries-queue';
export { ReconnectLinks, RECONNECT_LINK_TTL_MS } from './reconnect-links';
