import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { DEAD_LETTER_MAX } from '@mailpush/delivery';
import { notFound } from '../common/api-error';
import { AdminGuard } from '../common/auth.guards';
import { DeadLettersService, type DeadLetterView } from './dead-letters.service';

@Controller('v1/admin/dead-letters')
@UseGuards(AdminGuard)
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLettersService) {}

  /** Newest first. */
  @Get()
  async list(@Query('limit') limit?: string): Promise<{ deadLetters: DeadLetterView[] }> {
    const n = Number(limit ?? 100);
    return {
      deadLetters: await this.deadLetters.list(Number.isInteger(n) && n > 0 ? Math.min(n, DEAD_LETTER_MAX) : 100),
    };
  }

  @Post(':id/replay')
  @HttpCode(202)
  async replay(@Param('id') id: string): Promise<{ status: string; jobId: string }> {
    const result = await this.deadLetters.replay(id);
    if (result.status === 'not_found') throw notFound('Dead letter');
    return result;
  }
}
