import { Controller, Delete, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { UserRepository } from '@mailpush/store';
import { notFound } from '../common/api-error';
import { AdminGuard } from '../common/auth.guards';
import { UserErasureService } from './user-erasure.service';

@Controller('v1/users')
@UseGuards(AdminGuard)
export class UsersController {
  constructor(
    private readonly users: UserRepository,
    private readonly erasure: UserErasureService,
  ) {}

  /** The API key is shown once; only its hash is stored. */
  @Post()
  @HttpCode(201)
  async create(): Promise<{ id: string; apiKey: string }> {
    const { user, apiKey } = await this.users.create();
    return { id: user.id, apiKey };
  }

  /** A new API key, shown once; the old key is dead from this moment. */
  @Post(':id/api-key')
  @HttpCode(200)
  async rotateApiKey(@Param('id') id: string): Promise<{ id: string; apiKey: string }> {
    const apiKey = await this.users.rotateApiKey(id);
    if (!apiKey) throw notFound('User');
    return { id, apiKey };
  }

  /**
   * Deletes the user and erases their mailboxes (credentials, cursors, leases), devices, link
   * sessions, queued and dead-lettered jobs. Answers once workers have let go of the mailboxes.
   */
  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    if (!(await this.erasure.erase(id))) throw notFound('User');
  }
}
