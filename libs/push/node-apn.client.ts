import { Provider, type ProviderOptions } from '@parse/node-apn';
import type { ApnsConfig } from '@mailpush/config/app-config';
import type { ApnsClient, ApnsOutcome } from './apns-client';
import type { ApnsRequest } from './apns-http2.client';
import {
  adaptNodeApnProvider,
  nodeApnNotification,
  sentApnsId,
  shutdownNodeApnProvider,
  type ProviderTokenSource,
} from './node-apn.adapter';

/**
 * APNs through @parse/node-apn's HTTP/2 client (APNS_CLIENT=node-apn, the default): one Provider,
 * one connection, per environment. `connectionRetryLimit: 0`: exactly one request per send. The
 * adapted Provider signs with the token store's current JWT, the one the transport just read.
 */
export class NodeApnProviderClient implements ApnsClient {
  private readonly provider: Provider;

  constructor(config: ApnsConfig, production: boolean, tokens: ProviderTokenSource) {
    const options: ProviderOptions = {
      token: { key: config.keyPem, keyId: config.keyId, teamId: config.teamId },
      // Always explicit: node-apn otherwise derives it from NODE_ENV.
      production,
      connectionRetryLimit: 0,
    };
    if (config.endpoint) {
      // Replaces both Apple hosts. The port must be its own option: one inside `address` is ignored.
      options.address = config.endpoint.host;
      options.port = config.endpoint.port;
    }
    this.provider = new Provider(options);
    adaptNodeApnProvider(this.provider, tokens);
  }

  async send(request: ApnsRequest): Promise<ApnsOutcome> {
    const note = nodeApnNotification(request.headers, request.body);
    const { sent, failed } = await this.provider.send(note, request.deviceToken);
    if (sent.length > 0) {
      const apnsId = sentApnsId(sent[0]);
      return apnsId === undefined ? { delivered: true } : { delivered: true, apnsId };
    }
    return { delivered: false, failure: failed[0] ?? { error: new Error('node-apn returned no result') } };
  }

  close(): Promise<void> {
    return shutdownNodeApnProvider(this.provider);
  }
}
