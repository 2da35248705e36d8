import { Body, Controller, Delete, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { DeviceRepository, type Device, type User } from '@mailpush/store';
import { notFound } from '../common/api-error';
import { CurrentUser, UserGuard } from '../common/auth.guards';
import { ZodBodyPipe } from '../common/zod-body.pipe';
import { createDeviceSchema, type CreateDeviceBody } from './device.schemas';
import { DevicesService } from './devices.service';

/** What the API shows of a device: never the full push token (nor a Web Push subscription's keys). */
export function presentDevice(device: Device) {
  return {
    id: device.id,
    platform: device.platform,
    ...(device.platform === 'web'
      ? { endpointOrigin: endpointOrigin(device.token) }
      : { tokenSuffix: device.token.slice(-6) }),
    ...(device.environment ? { environment: device.environment } : {}),
    privacy: device.privacy,
    createdAt: device.createdAt,
  };
}

const webPushSubscription = z.object({ endpoint: z.string() });

function endpointOrigin(token: string): string | undefined {
  try {
    const parsed = webPushSubscription.safeParse(JSON.parse(token));
    return parsed.success ? new URL(parsed.data.endpoint).origin : undefined;
  } catch {
    return undefined;
  }
}

@Controller('v1/devices')
@UseGuards(UserGuard)
export class DevicesController {
  constructor(
    private readonly devices: DeviceRepository,
    private readonly service: DevicesService,
  ) {}

  @Post()
  async create(
    @CurrentUser() user: User,
    @Body(new ZodBodyPipe(createDeviceSchema)) body: CreateDeviceBody,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { device, created } = await this.service.register(user.id, body);
    res.status(created ? 201 : 200);
    return presentDevice(device);
  }

  @Get()
  async list(@CurrentUser() user: User) {
    return { devices: (await this.devices.listForUser(user.id)).map(presentDevice) };
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentUser() user: User, @Param('id') id: string): Promise<void> {
    if (!(await this.devices.remove(user.id, id))) throw notFound('Device');
  }
}
