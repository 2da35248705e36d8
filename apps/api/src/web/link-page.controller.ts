import { Controller, Get, Header } from '@nestjs/common';
import { LINK_PAGE_CSS, LINK_PAGE_HTML, LINK_PAGE_JS } from './link-page';

/** Scripts only from this origin, nothing framed: the page handles passwords. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

@Controller()
export class LinkPageController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', CSP)
  @Header('x-content-type-options', 'nosniff')
  @Header('referrer-policy', 'no-referrer')
  page(): string {
    return LINK_PAGE_HTML;
  }

  /** The same form opened from an app's one-time link (`/link#mpl_…`). */
  @Get('link')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', CSP)
  @Header('x-content-type-options', 'nosniff')
  @Header('referrer-policy', 'no-referrer')
  linkPage(): string {
    return LINK_PAGE_HTML;
  }

  @Get('app.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('x-content-type-options', 'nosniff')
  script(): string {
    return LINK_PAGE_JS;
  }

  @Get('app.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('x-content-type-options', 'nosniff')
  style(): string {
    return LINK_PAGE_CSS;
  }
}
