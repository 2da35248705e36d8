export {
  PushDeliveryError,
  type ApnsDevice,
  type DeliveryResult,
  type PushNotification,
  type PushProvider,
  type WebPushSubscription,
} from './push-notification';
export {
  ApnsTransport,
  APNS_MAX_COLLAPSE_ID_BYTES,
  APNS_MAX_PAYLOAD_BYTES,
  type ApnsTransportOptions,
} from './apns.transport';
export {
  ApnsTokenStore,
  MemoryApnsTokenBackend,
  RedisApnsTokenBackend,
  APNS_TOKEN_MIN_AGE_MS,
  type ApnsTokenBackend,
  type ApnsTokenStoreOptions,
} from './apns-token.store';
export {
  FcmTransport,
  EndpointAgent,
  EMULATOR_ACCESS_TOKEN,
  FCM_MAX_PAYLOAD_BYTES,
  type FcmTransportOptions,
} from './fcm.transport';
export {
  WebPushTransport,
  WEB_PUSH_MAX_PLAINTEXT_BYTES,
  webPushPayload,
  type WebPushPayload,
  type WebPushTransportOptions,
} from './web-push.transport';
export {
  assertPublicEndpoint,
  subscriptionProblem,
  EndpointNotAllowedError,
  MAX_ENDPOINT_LENGTH,
} from './web-push-endpoint';
export { InFlightLimiter } from './in-flight-limiter';
export { fitNotification } from './payload-fit';
export { classifyApnsFailure, type ApnsFailureLike } from './apns-error.classifier';
export { classifyFcmError } from './fcm-error.classifier';
export { classifyWebPushError } from './web-push-error.classifier';
export { parseRetryAfter, type PushErrorClassification } from './push-failure';
