import { z } from 'zod';
import { createAccountSchema, replaceCredentialsSchema } from '../accounts/account.schemas';
import { createDeviceSchema, webDeviceSchema } from '../devices/device.schemas';
import { callbackQuery, startQuery } from '../oauth/oauth.controller';

/** Who may call a route: the credential its guard asks for (docs/api.md says the same in words). */
export type Access = 'public' | 'admin' | 'user' | 'link';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

export interface RouteDoc {
  method: HttpMethod;
  /** OpenAPI style: `/v1/accounts/{id}`. */
  path: string;
  summary: string;
  access: Access;
  tag: string;
  body?: z.ZodType;
  query?: z.ZodObject;
  /** Status → what it means. Errors share one body (`ApiError`); everything else is JSON unless `produces` says. */
  responses: Readonly<Record<number, string>>;
  produces?: 'text/html' | 'text/event-stream' | 'text/javascript' | 'application/octet-stream';
}

const deadLettersQuery = z.object({ limit: z.coerce.number().int().positive().optional() });

const UNAUTHORIZED = { 401: 'Missing or wrong credential' } as const;
const INVALID = { 400: 'The body failed validation (`details` lists each bad field)' } as const;
const LOGIN_REFUSED = {
  422: 'The login was refused or the server unreachable: `auth_failed`, `connect_failed`, `tls_failed`, `timeout`, `host_not_found`, `host_not_allowed`, `rate_limited`, `unsupported_server`',
} as const;

/** Every route the api serves, in the order docs/api.md lists them. A spec checks none is missing. */
export const ROUTES: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/',
    summary: 'The web form',
    access: 'public',
    tag: 'web',
    produces: 'text/html',
    responses: { 200: 'HTML page' },
  },
  {
    method: 'get',
    path: '/link',
    summary: 'The web form opened from a link session',
    access: 'public',
    tag: 'web',
    produces: 'text/html',
    responses: { 200: 'HTML page' },
  },
  {
    method: 'get',
    path: '/service-worker.js',
    summary: "The web form's service worker (Web Push)",
    access: 'public',
    tag: 'web',
    produces: 'text/javascript',
    responses: { 200: 'Script' },
  },
  {
    method: 'get',
    path: '/assets/{file}',
    summary: "The web form's scripts and styles",
    access: 'public',
    tag: 'web',
    produces: 'application/octet-stream',
    responses: { 200: 'The file', 404: 'No such file' },
  },
  {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness (does not touch Redis)',
    access: 'public',
    tag: 'health',
    responses: { 200: '`{"status":"ok"}`' },
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: Redis answers',
    access: 'public',
    tag: 'health',
    responses: { 200: '`{"status":"ready"}`', 503: '`not_ready`' },
  },
  {
    method: 'get',
    path: '/v1/openapi.json',
    summary: 'This document',
    access: 'public',
    tag: 'meta',
    responses: { 200: 'OpenAPI 3.1' },
  },
  {
    method: 'post',
    path: '/v1/users',
    summary: 'Create a user; the API key is shown once',
    access: 'admin',
    tag: 'users',
    responses: { 201: '`{"id","apiKey"}`', ...UNAUTHORIZED },
  },
  {
    method: 'post',
    path: '/v1/users/{id}/api-key',
    summary: "Replace a user's API key; the old one stops working",
    access: 'admin',
    tag: 'users',
    responses: { 200: '`{"id","apiKey"}`', 404: 'No such user', ...UNAUTHORIZED },
  },
  {
    method: 'delete',
    path: '/v1/users/{id}',
    summary: 'Delete a user and erase everything of theirs',
    access: 'admin',
    tag: 'users',
    responses: { 204: 'Erased', 404: 'No such user', ...UNAUTHORIZED },
  },
  {
    method: 'post',
    path: '/v1/devices',
    summary: 'Register a phone or a browser',
    access: 'user',
    tag: 'devices',
    body: createDeviceSchema,
    responses: {
      201: 'The device',
      200: 'The same token was registered before: the existing device',
      ...INVALID,
      ...UNAUTHORIZED,
      422: '`host_not_allowed` (a Web Push endpoint on a private network)',
    },
  },
  {
    method: 'get',
    path: '/v1/devices',
    summary: "The user's devices (never the full token)",
    access: 'user',
    tag: 'devices',
    responses: { 200: '`{"devices":[…]}`', ...UNAUTHORIZED },
  },
  {
    method: 'delete',
    path: '/v1/devices/{id}',
    summary: 'Remove a device',
    access: 'user',
    tag: 'devices',
    responses: { 204: 'Removed', ...UNAUTHORIZED },
  },
  {
    method: 'get',
    path: '/v1/vapid-public-key',
    summary: 'The Web Push application server key',
    access: 'public',
    tag: 'devices',
    responses: { 200: '`{"publicKey"}`', 404: '`web_push_disabled`' },
  },
  {
    method: 'post',
    path: '/v1/accounts',
    summary: 'Link a mailbox (the login is checked first)',
    access: 'user',
    tag: 'accounts',
    body: createAccountSchema,
    responses: { 201: 'The account, `status: "connecting"`', ...INVALID, ...UNAUTHORIZED, ...LOGIN_REFUSED },
  },
  {
    method: 'get',
    path: '/v1/accounts',
    summary: "The user's mailboxes",
    access: 'user',
    tag: 'accounts',
    responses: { 200: '`{"accounts":[…]}`', ...UNAUTHORIZED },
  },
  {
    method: 'get',
    path: '/v1/accounts/{id}',
    summary: 'One mailbox with its live status',
    access: 'user',
    tag: 'accounts',
    responses: { 200: 'The account', 404: 'No such account', ...UNAUTHORIZED },
  },
  {
    method: 'put',
    path: '/v1/accounts/{id}/credentials',
    summary: 'New credentials (checked against the server)',
    access: 'user',
    tag: 'accounts',
    body: replaceCredentialsSchema,
    responses: { 200: 'The account', ...INVALID, ...UNAUTHORIZED, 404: 'No such account', ...LOGIN_REFUSED },
  },
  {
    method: 'post',
    path: '/v1/accounts/{id}/disable',
    summary: 'Stop watching a mailbox',
    access: 'user',
    tag: 'accounts',
    responses: { 200: 'The account, `status: "disabled"`', 404: 'No such account', ...UNAUTHORIZED },
  },
  {
    method: 'post',
    path: '/v1/accounts/{id}/enable',
    summary: 'Watch a disabled mailbox again (mail that arrived meanwhile is caught up)',
    access: 'user',
    tag: 'accounts',
    responses: { 200: 'The account, `status: "connecting"`', 404: 'No such account', ...UNAUTHORIZED },
  },
  {
    method: 'delete',
    path: '/v1/accounts/{id}',
    summary: 'Unlink a mailbox and erase its credentials',
    access: 'user',
    tag: 'accounts',
    responses: { 204: 'Erased', 404: 'No such account', ...UNAUTHORIZED },
  },
  {
    method: 'get',
    path: '/v1/events',
    summary: 'New mail, live (Server-Sent Events)',
    access: 'user',
    tag: 'events',
    produces: 'text/event-stream',
    responses: { 200: '`ready`, then one `new-mail` per message', ...UNAUTHORIZED, 429: 'Too many streams' },
  },
  {
    method: 'post',
    path: '/v1/link-sessions',
    summary: 'A one-time link a phone app opens in a browser (15 minutes)',
    access: 'user',
    tag: 'link sessions',
    responses: { 201: '`{"url","expiresAt"}`', ...UNAUTHORIZED },
  },
  {
    method: 'get',
    path: '/v1/link-session',
    summary: 'The link session, while it lives',
    access: 'link',
    tag: 'link sessions',
    responses: { 200: '`{"expiresAt"}`', 401: '`link_expired`' },
  },
  {
    method: 'delete',
    path: '/v1/link-session',
    summary: 'End the link session early',
    access: 'link',
    tag: 'link sessions',
    responses: { 204: 'Ended', 401: '`link_expired`' },
  },
  {
    method: 'get',
    path: '/v1/link-session/accounts',
    summary: "The session's user's mailboxes",
    access: 'link',
    tag: 'link sessions',
    responses: { 200: '`{"accounts":[…]}`', 401: '`link_expired`' },
  },
  {
    method: 'post',
    path: '/v1/link-session/accounts',
    summary: "Link a mailbox for the session's user (as `POST /v1/accounts`)",
    access: 'link',
    tag: 'link sessions',
    body: createAccountSchema,
    responses: { 201: 'The account', ...INVALID, 401: '`link_expired`', ...LOGIN_REFUSED },
  },
  {
    method: 'get',
    path: '/v1/link-session/accounts/{id}',
    summary: "One of the session user's mailboxes",
    access: 'link',
    tag: 'link sessions',
    responses: { 200: 'The account', 401: '`link_expired`', 404: 'No such account' },
  },
  {
    method: 'delete',
    path: '/v1/link-session/accounts/{id}',
    summary: "Unlink one of the session user's mailboxes",
    access: 'link',
    tag: 'link sessions',
    responses: { 204: 'Erased', 401: '`link_expired`', 404: 'No such account' },
  },
  {
    method: 'put',
    path: '/v1/link-session/accounts/{id}/credentials',
    summary: 'New credentials through a link (also from a Reconnect link)',
    access: 'link',
    tag: 'link sessions',
    body: replaceCredentialsSchema,
    responses: { 200: 'The account', ...INVALID, 401: '`link_expired`', 404: 'No such account', ...LOGIN_REFUSED },
  },
  {
    method: 'post',
    path: '/v1/link-session/devices',
    summary: 'Turn on Web Push in this browser',
    access: 'link',
    tag: 'link sessions',
    body: webDeviceSchema,
    responses: {
      201: 'The device',
      200: 'Registered before: the existing device',
      ...INVALID,
      401: '`link_expired`',
      422: '`host_not_allowed`',
    },
  },
  {
    method: 'get',
    path: '/v1/link-session/events',
    summary: "New mail, live, for the session's user (Server-Sent Events)",
    access: 'link',
    tag: 'link sessions',
    produces: 'text/event-stream',
    responses: { 200: 'As `GET /v1/events`', 401: '`link_expired`' },
  },
  {
    method: 'get',
    path: '/v1/providers',
    summary: 'Provider presets and whether sign-in is on for each',
    access: 'public',
    tag: 'providers',
    responses: { 200: '`{"providers":[…]}`' },
  },
  {
    method: 'get',
    path: '/v1/oauth/{provider}/start',
    summary: 'Start "Sign in with …" (a link token or an API key, in `link` or as bearer)',
    access: 'public',
    tag: 'providers',
    query: startQuery,
    produces: 'text/html',
    responses: { 302: 'To the provider', 400: 'A page saying what went wrong' },
  },
  {
    method: 'get',
    path: '/v1/oauth/callback',
    summary: "The provider's redirect back (authorised by its single-use `state`)",
    access: 'public',
    tag: 'providers',
    query: callbackQuery,
    produces: 'text/html',
    responses: { 302: 'To `/link?linked=<id>`', 400: 'A page saying what went wrong' },
  },
  {
    method: 'get',
    path: '/v1/admin/overview',
    summary: 'Accounts by status, live workers, queues, dead letters',
    access: 'admin',
    tag: 'admin',
    responses: { 200: 'The overview', ...UNAUTHORIZED },
  },
  {
    method: 'get',
    path: '/v1/admin/dead-letters',
    summary: 'Deliveries that exhausted their attempts, newest first',
    access: 'admin',
    tag: 'admin',
    query: deadLettersQuery,
    responses: { 200: '`{"deadLetters":[…]}`', ...UNAUTHORIZED },
  },
  {
    method: 'post',
    path: '/v1/admin/dead-letters/{id}/replay',
    summary: 'Run a dead delivery again',
    access: 'admin',
    tag: 'admin',
    responses: { 202: '`{"status","jobId"}`', 404: 'No such dead letter', ...UNAUTHORIZED },
  },
];
