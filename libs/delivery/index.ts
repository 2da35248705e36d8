export { BurstBudget, type BurstDecision } from './burst-budget';
export {
  DeadLetterRepository,
  DEAD_LETTER_MAX,
  type DeadLetter,
  type DeadLetterJob,
  type NewDeadLetter,
} from './dead-letter.repository';
export { DeliveryMarks } from './delivery-marks';
export { UserEventsPublisher, toUserMailEvent, type UserMailEvent, type UserReauthEvent } from './user-events';
export { ReconnectLinks, RECONNECT_LINK_TTL_MS } from './reconnect-links';
