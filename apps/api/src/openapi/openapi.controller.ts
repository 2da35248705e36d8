import { Controller, Get } from '@nestjs/common';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi.document';

/** `GET /v1/openapi.json`: no credentials, like the web form; nothing in it is user data. */
@Controller('v1')
export class OpenApiController {
  private document: OpenApiDocument | undefined;

  @Get('openapi.json')
  openApi(): OpenApiDocument {
    return (this.document ??= buildOpenApiDocument());
  }
}
