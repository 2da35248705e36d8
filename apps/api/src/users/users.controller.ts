import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { UserRepository } from '../../../../libs/store';
import { AdminGuard } from '../common/auth.guards';

@Controller('v1/users')
@UseGuards(AdminGuard)
export class UsersController {
  constructor(private readonly users: UserRepository) {}

  /** The API key is shown once; only its hash is stored. */
  @Post()
  @HttpCode(201)
  async create(): Promise<{ id: string; apiKey: string }> {
    const { user, apiKey } = await this.users.create();
    return { id: user.id, apiKey };
  }
}
