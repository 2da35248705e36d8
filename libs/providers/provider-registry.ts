import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { toPublicProvider } from './provider-catalog';
import type { OAuthClient, Provider, PublicProvider } from './provider.model';

/** The providers in force (resolved and validated at boot by libs/config). */
@Injectable()
export class ProviderRegistry {
  private readonly byId: ReadonlyMap<string, Provider>;

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'providers'>) {
    this.byId = new Map(config.providers.map((p) => [p.id, p]));
  }

  list(): Provider[] {
    return [...this.byId.values()];
  }

  listPublic(): PublicProvider[] {
    return this.list().map(toPublicProvider);
  }

  find(id: string): Provider | undefined {
    return this.byId.get(id);
  }

  /** The provider and its OAuth client, when sign-in with it is configured. */
  oauth(id: string): { provider: Provider; client: OAuthClient } | undefined {
    const provider = this.byId.get(id);
    return provider?.oauth ? { provider, client: provider.oauth } : undefined;
  }
}
