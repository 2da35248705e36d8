export {
  PushDeliveryError,
  type ApnsDevice,
  type DeliveryResult,
  type PushNotification,
  type PushProvider,
} from './push-notification';
export { ApnsTransport, APNS_MAX_COLLAPSE_ID_BYTES, APNS_MAX_PAYLOAD_BYTES } from './apns.transport';
export { FcmTransport, EndpointAgent, EMULATOR_ACCESS_TOKEN } from './fcm.transport';
export {
  classifyApnsFailure,
  classifyFcmError,
  type ApnsFailureLike,
  type PushErrorClassification,
} from '../errors/push-error.classifier';
