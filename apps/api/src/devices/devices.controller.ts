import { Body, Controller, Delete, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { DeviceRepository, type Device, type User } from '../../../../libs/store';
import { notFound } from '../common/api-error';
import { CurrentUser, UserGuard } from '../common/auth.guards';
import { ZodBodyPipe } from '../common/zod-body.pipe';
import { createDeviceSchema, type CreateDeviceBody } from './device.schemas';

/** What the API shows of a device: never the full push token. */
function present(device: Device) {
  return {
    id: device.id,
    platform: device.platform,
    tokenSuffix: device.token.slice(-6),
    ...(device.environment ? { environment: device.environment } : {}),
    privacy: device.privacy,
    createdAt: device.createdAt,
  };
}

@Controller('v1/devices')
@UseGuards(UserGuard)
export class DevicesController {
  constructor(private readonly devices: DeviceRepository) {}

  @Post()
  async create(
    @CurrentUser() user: User,
    @Body(new ZodBodyPipe(createDeviceSchema)) body: CreateDeviceBody,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { device, created } = await this.devices.upsert(user.id, {
      platform: body.platform,
      token: body.token,
      ...(body.platform === 'ios' ? { environment: body.environment } : {}),
      privacy: body.privacy,
    });
    res.status(created ? 201 : 200);
    return present(device);
  }

  @Get()
  async list(@CurrentUser() user: User) {
    return { devices: (await this.devices.listForUser(user.id)).map(present) };
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentUser() user: User, @Param('id') id: string): Promise<void> {
    if (!(await this.devices.remove(user.id, id))) throw notFound('Device');
  }
}
