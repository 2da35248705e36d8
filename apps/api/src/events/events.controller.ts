import { Controller, Get, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { User } from '@mailpush/store';
import { CurrentUser, UserGuard } from '../common/auth.guards';
import { EventStreamService } from './event-stream.service';

/** `GET /v1/events`: the user's new-mail events as Server-Sent Events, for desktop clients and anything without a push service. */
@Controller('v1/events')
@UseGuards(UserGuard)
export class EventsController {
  constructor(private readonly streams: EventStreamService) {}

  @Get()
  async stream(@CurrentUser() user: User, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.streams.stream(user.id, req, res);
  }
}
