import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { AccountRepository, type Account, type User } from '@mailpush/store';
import { notFound } from '../common/api-error';
import type { LoginRequester } from '@mailpush/limits';
import { CurrentUser, UserGuard } from '../common/auth.guards';
import { Requester } from '../common/requester';
import { ZodBodyPipe } from '../common/zod-body.pipe';
import {
  createAccountSchema,
  replaceCredentialsSchema,
  type CreateAccountBody,
  type ReplaceCredentialsBody,
} from './account.schemas';
import { AccountsService } from './accounts.service';

export function presentAccount(a: Account) {
  return {
    id: a.id,
    email: a.email,
    provider: a.provider,
    imap: a.imap,
    username: a.username,
    auth: a.authType,
    oauthProvider: a.oauthProvider ?? null,
    options: a.options,
    status: a.status,
    lastError: a.lastError ?? null,
    nextAttemptAt: a.nextAttemptAt ?? null,
    lastEventAt: a.lastEventAt ?? null,
    alert: a.alert ?? null,
    createdAt: a.createdAt,
  };
}

@Controller('v1/accounts')
@UseGuards(UserGuard)
export class AccountsController {
  constructor(
    private readonly service: AccountsService,
    private readonly accounts: AccountRepository,
  ) {}

  @Post()
  @HttpCode(201)
  async create(
    @Requester() requester: LoginRequester,
    @Body(new ZodBodyPipe(createAccountSchema)) body: CreateAccountBody,
  ) {
    return presentAccount(await this.service.link(requester, body));
  }

  @Get()
  async list(@CurrentUser() user: User) {
    return { accounts: (await this.accounts.listForUser(user.id)).map(presentAccount) };
  }

  @Get(':id')
  async get(@CurrentUser() user: User, @Param('id') id: string) {
    const account = await this.accounts.findForUser(user.id, id);
    if (!account) throw notFound('Account');
    return presentAccount(account);
  }

  @Put(':id/credentials')
  async replaceCredentials(
    @Requester() requester: LoginRequester,
    @Param('id') id: string,
    @Body(new ZodBodyPipe(replaceCredentialsSchema)) body: ReplaceCredentialsBody,
  ) {
    return presentAccount(await this.service.replaceCredentials(requester, id, body));
  }

  @Post(':id/disable')
  @HttpCode(200)
  async disable(@CurrentUser() user: User, @Param('id') id: string) {
    return presentAccount(await this.service.setEnabled(user.id, id, false));
  }

  @Post(':id/enable')
  @HttpCode(200)
  async enable(@CurrentUser() user: User, @Param('id') id: string) {
    return presentAccount(await this.service.setEnabled(user.id, id, true));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentUser() user: User, @Param('id') id: string): Promise<void> {
    if (!(await this.accounts.remove(user.id, id))) throw notFound('Account');
  }
}
