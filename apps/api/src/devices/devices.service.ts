import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { ErrorCode } from '@mailpush/errors';
import { EndpointNotAllowedError, assertPublicEndpoint } from '@mailpush/push';
import { DeviceRepository, type Device } from '@mailpush/store';
import { ApiError } from '../common/api-error';
import type { CreateDeviceBody } from './device.schemas';

@Injectable()
export class DevicesService {
  constructor(
    private readonly devices: DeviceRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Registers (or re-registers) a device; a Web Push endpoint must be on a public network. */
  async register(userId: string, body: CreateDeviceBody): Promise<{ device: Device; created: boolean }> {
    switch (body.platform) {
      case 'ios':
        return this.devices.upsert(userId, {
          platform: 'ios',
          token: body.token,
          environment: body.environment,
          privacy: body.privacy,
        });
      case 'android':
        return this.devices.upsert(userId, { platform: 'android', token: body.token, privacy: body.privacy });
      case 'web':
        await this.checkEndpoint(body.subscription.endpoint);
        // Canonical JSON (fixed key order): the same subscription registered twice is one device.
        return this.devices.upsert(userId, {
          platform: 'web',
          token: JSON.stringify(body.subscription),
          privacy: body.privacy,
        });
    }
  }

  private async checkEndpoint(endpoint: string): Promise<void> {
    try {
      await assertPublicEndpoint(endpoint, this.config.allowPrivateHosts);
    } catch (err) {
      if (err instanceof EndpointNotAllowedError) {
        throw new ApiError(
          HttpStatus.UNPROCESSABLE_ENTITY,
          ErrorCode.HostNotAllowed,
          'The push endpoint is on a private, loopback or reserved network',
        );
      }
      throw new ApiError(
        HttpStatus.UNPROCESSABLE_ENTITY,
        ErrorCode.HostNotFound,
        'The push endpoint host does not resolve',
      );
    }
  }
}
