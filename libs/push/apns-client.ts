import type { ApnsConfig } from '@mailpush/config/app-config';
import type { ApnsFailureLike } from './apns-error.classifier';
import { ApnsHttp2Client, APNS_HOSTS, type ApnsRequest } from './apns-http2.client';
import type { ProviderTokenSource } from './node-apn.adapter';
import { NodeApnProviderClient } from './node-apn.client';
import { parseRetryAfter } from './push-failure';
import type { ApnsDevice } from './push-notification';

/** A request APNs accepted (with its `apns-id` when given), or its failure in the classifier's shape. */
export type ApnsOutcome = { delivered: true; apnsId?: string } | { delivered: false; failure: ApnsFailureLike };

/**
 * What the APNs transport needs from an HTTP/2 client (APNS_CLIENT): send one request exactly once
 * (retries belong to the queue) and report the outcome; a throw means no answer came. Both clients
 * send the transport's headers and body and the shared JWT as they are.
 */
export interface ApnsClient {
  send(request: ApnsRequest): Promise<ApnsOutcome>;
  close(): Promise<void>;
}

/** The project's own node:http2 client (APNS_CLIENT=http2), its answers put in the classifier's shape. */
export class Http2ApnsClient implements ApnsClient {
  private readonly client: ApnsHttp2Client;

  constructor(origin: string) {
    this.client = new ApnsHttp2Client(origin);
  }

  async send(request: ApnsRequest): Promise<ApnsOutcome> {
    const answer = await this.client.send(request);
    if (answer.status === 200)
      return answer.apnsId === undefined ? { delivered: true } : { delivered: true, apnsId: answer.apnsId };
    const failure: ApnsFailureLike = { status: answer.status, response: { reason: answer.reason } };
    const retryAfterMs = parseRetryAfter(answer.retryAfter);
    if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
    return { delivered: false, failure };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/**
 * The client APNS_CLIENT names, for one environment. A configured endpoint (a local fake) replaces
 * both of Apple's hosts; TLS is verified against its host with the default trust store (plus
 * NODE_EXTRA_CA_CERTS).
 */
export function createApnsClient(
  config: ApnsConfig,
  environment: ApnsDevice['environment'],
  tokens: ProviderTokenSource,
): ApnsClient {
  if (config.client === 'node-apn') return new NodeApnProviderClient(config, environment === 'production', tokens);
  const endpoint = config.endpoint;
  return new Http2ApnsClient(
    endpoint ? `https://${endpoint.host}:${endpoint.port}` : `https://${APNS_HOSTS[environment]}:443`,
  );
}
