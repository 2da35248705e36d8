import { Controller, Get } from '@nestjs/common';
import { ProviderRegistry, type PublicProvider } from '@mailpush/providers';

/** `GET /v1/providers`: the presets, so apps build their own screens; `oauth` is true where sign-in is configured. */
@Controller('v1/providers')
export class ProvidersController {
  constructor(private readonly registry: ProviderRegistry) {}

  @Get()
  list(): { providers: PublicProvider[] } {
    return { providers: this.registry.listPublic() };
  }
}
