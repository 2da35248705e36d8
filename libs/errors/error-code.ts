import { ErrorClass } from './error-class';

/**
 * The error vocabulary: every machine-readable code the relay produces (classifiers, transports,
 * the API), stable across releases. Clients key off these strings; rename one only with a note.
 */
export const ErrorCode = {
  // Network, DNS and TLS: the shared vocabulary of every outbound connection (IMAP, push, OAuth).
  ConnectFailed: 'connect_failed',
  HostNotFound: 'host_not_found',
  HostNotAllowed: 'host_not_allowed',
  PortNotAllowed: 'port_not_allowed',
  Timeout: 'timeout',
  TlsFailed: 'tls_failed',

  // Mail server (IMAP).
  AuthFailed: 'auth_failed',
  RateLimited: 'rate_limited',
  ProbeTimeout: 'probe_timeout',
  ServerClosed: 'server_closed',
  ConnectionClosed: 'connection_closed',
  ProtocolError: 'protocol_error',
  StarttlsUnavailable: 'starttls_unavailable',
  UnsupportedServer: 'unsupported_server',
  ImapError: 'imap_error',
  TooManyAttempts: 'too_many_attempts',

  // Sign-in (OAuth2).
  ReauthRequired: 'reauth_required',
  AccessDenied: 'access_denied',
  OAuthClientRejected: 'oauth_client_rejected',
  OAuthServerError: 'oauth_server_error',
  OAuthRefused: 'oauth_refused',
  OAuthBadResponse: 'oauth_bad_response',
  OAuthUnreachable: 'oauth_unreachable',
  OAuthUnavailable: 'oauth_unavailable',
  OAuthRefreshBusy: 'oauth_refresh_busy',
  NoAddress: 'no_address',
  NoRefreshToken: 'no_refresh_token',
  NoGrant: 'no_grant',

  // Push, any service.
  TransportClosed: 'transport_closed',
  InvalidToken: 'invalid_token',
  InvalidSubscription: 'invalid_subscription',
  PayloadTooLarge: 'payload_too_large',
  TooManyRequests: 'too_many_requests',
  InternalError: 'internal_error',
  UnknownError: 'unknown_error',

  // APNs (provider API reasons, snake_case; see libs/push/apns-error.table.ts).
  BadCollapseId: 'bad_collapse_id',
  BadDeviceToken: 'bad_device_token',
  BadExpirationDate: 'bad_expiration_date',
  BadMessageId: 'bad_message_id',
  BadPriority: 'bad_priority',
  BadTopic: 'bad_topic',
  DeviceTokenNotForTopic: 'device_token_not_for_topic',
  DuplicateHeaders: 'duplicate_headers',
  IdleTimeout: 'idle_timeout',
  InvalidPushType: 'invalid_push_type',
  MissingDeviceToken: 'missing_device_token',
  MissingTopic: 'missing_topic',
  PayloadEmpty: 'payload_empty',
  TopicDisallowed: 'topic_disallowed',
  BadCertificate: 'bad_certificate',
  BadCertificateEnvironment: 'bad_certificate_environment',
  ExpiredProviderToken: 'expired_provider_token',
  Forbidden: 'forbidden',
  InvalidProviderToken: 'invalid_provider_token',
  MissingProviderToken: 'missing_provider_token',
  UnrelatedKeyIdInToken: 'unrelated_key_id_in_token',
  BadEnvironmentKeyInToken: 'bad_environment_key_in_token',
  BadPath: 'bad_path',
  MethodNotAllowed: 'method_not_allowed',
  ExpiredToken: 'expired_token',
  Unregistered: 'unregistered',
  TooManyProviderTokenUpdates: 'too_many_provider_token_updates',
  InternalServerError: 'internal_server_error',
  ServiceUnavailable: 'service_unavailable',
  Shutdown: 'shutdown',
  ProviderTokenUnavailable: 'provider_token_unavailable',

  // FCM (firebase-admin `messaging/*` codes, snake_case; see libs/push/fcm-error.table.ts).
  NotFound: 'not_found',
  InvalidArgument: 'invalid_argument',
  InvalidRecipient: 'invalid_recipient',
  InvalidPayload: 'invalid_payload',
  InvalidDataPayloadKey: 'invalid_data_payload_key',
  PayloadSizeLimitExceeded: 'payload_size_limit_exceeded',
  InvalidOptions: 'invalid_options',
  InvalidRegistrationToken: 'invalid_registration_token',
  InvalidPackageName: 'invalid_package_name',
  TooManyTopics: 'too_many_topics',
  SenderIdMismatch: 'sender_id_mismatch',
  PermissionDenied: 'permission_denied',
  ThirdPartyAuthError: 'third_party_auth_error',
  QuotaExceeded: 'quota_exceeded',
  Unavailable: 'unavailable',
  Internal: 'internal',
  CredentialUnreachable: 'credential_unreachable',
  CredentialRejected: 'credential_rejected',

  // Web Push.
  SubscriptionGone: 'subscription_gone',
  SubscriptionNotFound: 'subscription_not_found',
  VapidRejected: 'vapid_rejected',
  VapidKeyMismatch: 'vapid_key_mismatch',

  // REST API answers.
  InvalidRequest: 'invalid_request',
  Unauthorized: 'unauthorized',
  UnsupportedMediaType: 'unsupported_media_type',
  LinkExpired: 'link_expired',
  LinkScope: 'link_scope',
  LinkInUse: 'link_in_use',
  TooManyStreams: 'too_many_streams',
  NotReady: 'not_ready',
  WebPushDisabled: 'web_push_disabled',
  MailboxLimitReached: 'mailbox_limit_reached',
  DeviceLimitReached: 'device_limit_reached',
  Unspecified: 'error',
} as const;

/** A named code, or `http_<status>` for an HTTP answer no table names. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode] | HttpStatusErrorCode;
export type HttpStatusErrorCode = `http_${number}`;

export function httpStatusCode(status: number): HttpStatusErrorCode {
  return `http_${status}`;
}

export interface ErrorCodeInfo {
  errorClass: ErrorClass;
  /** Plain words for the person who sees the error (web form, API message), without detail. */
  message: string;
}

const { Auth, RateLimited, Transient, Permanent } = ErrorClass;
const info = (errorClass: ErrorClass, message: string): ErrorCodeInfo => ({ errorClass, message });
const apnsRejected = info(Permanent, 'Apple refused this notification; the relay needs a fix.');
const apnsCredentials = info(Auth, "Apple refused the relay's push credentials; the operator must fix them.");
const fcmRejected = info(Permanent, 'Firebase refused this notification; the relay needs a fix.');

/** For each named code: its class and the words a person sees. */
export const ERROR_CATALOG: Readonly<Record<(typeof ErrorCode)[keyof typeof ErrorCode], ErrorCodeInfo>> = {
  connect_failed: info(Transient, 'Could not reach the server. Check the host name and port.'),
  host_not_found: info(Transient, 'That host name does not exist. Check the host.'),
  host_not_allowed: info(Permanent, 'That server is on a private network, which this relay does not allow.'),
  port_not_allowed: info(Permanent, 'That port is not allowed on this relay.'),
  timeout: info(Transient, 'The server did not answer in time. Try again in a moment.'),
  tls_failed: info(
    Permanent,
    'The secure connection to the server failed. Check the port (993 for TLS) and the TLS setting.',
  ),

  auth_failed: info(
    Auth,
    'The server rejected the username or password. Many providers need an app password instead of your normal one.',
  ),
  rate_limited: info(RateLimited, 'The server asked us to slow down. Try again in a few minutes.'),
  probe_timeout: info(Transient, 'The mail server stopped answering; reconnecting.'),
  server_closed: info(Transient, 'The mail server ended the session; reconnecting.'),
  connection_closed: info(Transient, 'The connection to the mail server closed; reconnecting.'),
  protocol_error: info(Transient, 'The mail server sent something we refuse to process.'),
  starttls_unavailable: info(
    Permanent,
    'The mail server does not offer a secure connection on this port. Use the TLS port (993).',
  ),
  unsupported_server: info(Permanent, 'This mail server lacks something the relay needs.'),
  imap_error: info(Transient, 'Something unexpected happened talking to the mail server.'),
  too_many_attempts: info(RateLimited, 'Too many login attempts. Wait a few minutes and try again.'),

  reauth_required: info(Auth, 'The provider no longer accepts this sign-in. Sign in again.'),
  access_denied: info(Auth, 'Access was not granted at the provider.'),
  oauth_client_rejected: info(Permanent, 'The provider refused this relay; the operator must fix its configuration.'),
  oauth_server_error: info(Transient, 'The sign-in provider had a temporary problem. Try again in a moment.'),
  oauth_refused: info(Permanent, 'The sign-in provider refused the request.'),
  oauth_bad_response: info(Transient, 'The sign-in provider sent a reply we refuse to process.'),
  oauth_unreachable: info(Transient, 'Could not reach the sign-in provider. Try again in a moment.'),
  oauth_unavailable: info(Permanent, 'Sign-in with this provider is not configured on this relay.'),
  oauth_refresh_busy: info(Transient, 'The sign-in is being refreshed elsewhere; trying again.'),
  no_address: info(Permanent, 'The provider did not tell us the mailbox address.'),
  no_refresh_token: info(Permanent, 'The provider granted no offline access, so the mailbox cannot be watched.'),
  no_grant: info(Permanent, 'This mailbox has no sign-in. Sign in again.'),

  transport_closed: info(Transient, 'The push sender is shutting down; the notification will be retried.'),
  invalid_token: info(Permanent, 'The device token is malformed.'),
  invalid_subscription: info(Permanent, 'The browser subscription is malformed.'),
  payload_too_large: info(Permanent, 'The request or notification is too large.'),
  too_many_requests: info(RateLimited, 'The push service asked us to slow down.'),
  internal_error: info(Transient, 'Something went wrong on our side.'),
  unknown_error: info(Transient, 'The push failed for an unknown reason; it will be retried.'),

  bad_collapse_id: apnsRejected,
  bad_device_token: info(Permanent, 'Apple says this device token is not valid.'),
  bad_expiration_date: apnsRejected,
  bad_message_id: apnsRejected,
  bad_priority: apnsRejected,
  bad_topic: apnsRejected,
  device_token_not_for_topic: info(Permanent, 'This device token belongs to another app.'),
  duplicate_headers: apnsRejected,
  idle_timeout: info(Transient, 'Apple closed an idle connection; the notification will be retried.'),
  invalid_push_type: apnsRejected,
  missing_device_token: apnsRejected,
  missing_topic: apnsRejected,
  payload_empty: apnsRejected,
  topic_disallowed: apnsRejected,
  bad_certificate: apnsCredentials,
  bad_certificate_environment: apnsCredentials,
  expired_provider_token: info(Transient, "Apple's provider token expired; it is being renewed."),
  forbidden: info(Auth, 'Not allowed.'),
  invalid_provider_token: apnsCredentials,
  missing_provider_token: apnsCredentials,
  unrelated_key_id_in_token: apnsCredentials,
  bad_environment_key_in_token: apnsCredentials,
  bad_path: apnsRejected,
  method_not_allowed: info(Permanent, 'That method is not allowed here.'),
  expired_token: info(Permanent, 'Apple says this device token has expired.'),
  unregistered: info(Permanent, 'The app was removed from this device, or its token is no longer valid.'),
  too_many_provider_token_updates: info(RateLimited, "Apple's provider token changed too often; slowing down."),
  internal_server_error: info(Transient, 'The push service had a temporary problem; the notification will be retried.'),
  service_unavailable: info(Transient, 'The push service is unavailable; the notification will be retried.'),
  shutdown: info(Transient, 'The push service is restarting; the notification will be retried.'),
  provider_token_unavailable: info(
    Transient,
    "Apple's provider token could not be read; the notification will be retried.",
  ),

  not_found: info(Permanent, 'Not found.'),
  invalid_argument: fcmRejected,
  invalid_recipient: fcmRejected,
  invalid_payload: fcmRejected,
  invalid_data_payload_key: fcmRejected,
  payload_size_limit_exceeded: fcmRejected,
  invalid_options: fcmRejected,
  invalid_registration_token: info(Permanent, 'Firebase says this device token is malformed.'),
  invalid_package_name: fcmRejected,
  too_many_topics: fcmRejected,
  sender_id_mismatch: info(Permanent, 'This device token belongs to another Firebase project.'),
  permission_denied: info(Auth, "Firebase refused the relay's credentials; the operator must fix them."),
  third_party_auth_error: info(Auth, "Firebase could not use the project's Apple or Web Push credentials."),
  quota_exceeded: info(RateLimited, 'Firebase asked us to slow down.'),
  unavailable: info(Transient, 'Firebase is unavailable; the notification will be retried.'),
  internal: info(Transient, 'Firebase had an internal error; the notification will be retried.'),
  credential_unreachable: info(
    Transient,
    "Google's token server could not be reached; the notification will be retried.",
  ),
  credential_rejected: info(Auth, "The relay's Firebase credentials were refused; the operator must fix them."),

  subscription_gone: info(Permanent, 'The browser subscription no longer exists.'),
  subscription_not_found: info(Permanent, 'The browser subscription no longer exists.'),
  vapid_rejected: info(Auth, "The browser's push service refused the relay's Web Push keys."),
  vapid_key_mismatch: info(Permanent, 'This browser subscription was made for other Web Push keys.'),

  invalid_request: info(Permanent, 'The request is not valid.'),
  unauthorized: info(Auth, 'The API key is missing or wrong.'),
  unsupported_media_type: info(Permanent, 'Send the request body as JSON.'),
  link_expired: info(Auth, 'This link is unknown, ended or expired. Ask the app for a new one.'),
  link_scope: info(Auth, 'This link cannot do that. Ask the app for a linking link.'),
  link_in_use: info(Transient, 'This link is being used right now; wait for that to finish.'),
  too_many_streams: info(RateLimited, 'Too many live streams are open for this user.'),
  not_ready: info(Transient, 'The service is not ready yet.'),
  web_push_disabled: info(Permanent, 'This server has no Web Push keys configured, so it cannot notify browsers.'),
  mailbox_limit_reached: info(
    Permanent,
    'This user has linked as many mailboxes as the relay allows; remove one first.',
  ),
  device_limit_reached: info(
    Permanent,
    'This user has registered as many devices as the relay allows; remove one first.',
  ),
  error: info(Permanent, 'The request failed.'),
};

/** The class and plain words of any code, `http_<status>` included (by the shared status ladder). */
export function describeErrorCode(code: ErrorCode): ErrorCodeInfo {
  if (isNamedErrorCode(code)) return ERROR_CATALOG[code];
  const status = Number(code.slice('http_'.length));
  return { errorClass: classOfHttpStatus(status), message: `The service answered with HTTP status ${status}.` };
}

export function isNamedErrorCode(value: string): value is (typeof ErrorCode)[keyof typeof ErrorCode] {
  return Object.hasOwn(ERROR_CATALOG, value);
}

/**
 * The one HTTP status ladder (push services, OAuth servers): 429 slow down; 408 and 5xx retry;
 * 401/403 credentials; other 4xx refused for good. Provider tables override single statuses
 * before they reach it (APNs reasons, Web Push 404/410/403/413).
 */
export function classOfHttpStatus(status: number): ErrorClass {
  if (status === 429) return RateLimited;
  if (status >= 500 || status === 408) return Transient;
  if (status === 401 || status === 403) return Auth;
  if (status >= 400) return Permanent;
  return Transient;
}
