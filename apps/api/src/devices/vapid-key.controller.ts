import { Controller, Get, HttpStatus, Inject } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { ErrorCode } from '@mailpush/errors';
import { ApiError } from '../common/api-error';

/** The VAPID public key a web page passes to `pushManager.subscribe({ applicationServerKey })`. Public by design. */
@Controller('v1/vapid-public-key')
export class VapidKeyController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get()
  publicKey(): { publicKey: string } {
    if (!this.config.webPush)
      throw new ApiError(HttpStatus.NOT_FOUND, ErrorCode.WebPushDisabled, 'Web Push is not configured on this server');
    return { publicKey: this.config.webPush.publicKey };
  }
}
