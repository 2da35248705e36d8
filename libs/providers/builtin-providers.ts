import type { ProviderPreset } from './provider.model';

/** Stands for OAUTH_MICROSOFT_TENANT in Microsoft's endpoint URLs (`common` by default). */
export const TENANT_PLACEHOLDER = '{tenant}';

/**
 * The built-in presets. Every OAuth value carries the page it was checked against; what could not
 * be checked against the live provider is listed in docs/providers.md.
 */
export const BUILTIN_PROVIDERS: readonly ProviderPreset[] = [
  {
    id: 'gmail',
    name: 'Gmail',
    // https://developers.google.com/workspace/gmail/imap/imap-smtp
    imap: { host: 'imap.gmail.com', port: 993, tls: true },
    hint: 'Sign in with Google, or use an app password (needs 2-step verification: Google Account → Security → App passwords).',
    credentialsFrom: 'google',
    oauthDefaults: {
      // https://developers.google.com/identity/protocols/oauth2/web-server#creatingclient
      authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      // https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code
      tokenUrl: 'https://oauth2.googleapis.com/token',
      // https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke
      revokeUrl: 'https://oauth2.googleapis.com/revoke',
      // https://developers.google.com/identity/openid-connect/openid-connect#discovery (userinfo_endpoint)
      userinfoUrl: 'https://openidconnect.googleapis.com/v1/userinfo',
      // IMAP: https://developers.google.com/workspace/gmail/imap/xoauth2-protocol ("The scope for IMAP,
      // POP, and SMTP access is https://mail.google.com/"); openid + email put the address in the ID
      // token: https://developers.google.com/identity/openid-connect/openid-connect#scope-param
      scopes: ['openid', 'email', 'https://mail.google.com/'],
      // access_type=offline returns a refresh token; prompt=consent returns one again on a re-link:
      // https://developers.google.com/identity/protocols/oauth2/web-server#offline
      extraParams: { access_type: 'offline', prompt: 'consent' },
      // "The value of iss in the ID token is equal to accounts.google.com or https://accounts.google.com":
      // https://developers.google.com/identity/openid-connect/openid-connect#validatinganidtoken
      issuers: ['https://accounts.google.com', 'accounts.google.com'],
      // Google's examples post the secret in the body:
      // https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code
      tokenEndpointAuth: 'client_secret_post',
    },
  },
  {
    id: 'outlook',
    name: 'Outlook / Microsoft 365',
    // https://support.microsoft.com/office/pop-imap-and-smtp-settings-for-outlook-com-d088b986-291d-42b8-9564-9c414e2aa040
    imap: { host: 'outlook.office365.com', port: 993, tls: true },
    hint: 'Sign in with Microsoft. Microsoft 365 has switched password (basic) authentication off for IMAP.',
    credentialsFrom: 'microsoft',
    oauthDefaults: {
      // https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#request-an-authorization-code
      authorizeUrl: `https://login.microsoftonline.com/${TENANT_PLACEHOLDER}/oauth2/v2.0/authorize`,
      // https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#redeem-a-code-for-an-access-token
      tokenUrl: `https://login.microsoftonline.com/${TENANT_PLACEHOLDER}/oauth2/v2.0/token`,
      // IMAP scope with the Outlook resource, offline_access for a refresh token:
      // https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
      // openid + email put the address in the ID token:
      // https://learn.microsoft.com/entra/identity-platform/scopes-oidc#openid-connect-scopes
      scopes: ['https://outlook.office.com/IMAP.AccessAsUser.All', 'offline_access', 'openid', 'email'],
      // The v2.0 ID token's iss is https://login.microsoftonline.com/{tenantid}/v2.0 with the user's
      // tenant id (the discovery document of /common says so literally):
      // https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference#payload-claims
      issuers: ['https://login.microsoftonline.com/{tenantid}/v2.0'],
      // https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#redeem-a-code-for-an-access-token
      tokenEndpointAuth: 'client_secret_post',
    },
  },
  {
    id: 'yahoo',
    name: 'Yahoo Mail',
    // https://help.yahoo.com/kb/SLN4075.html
    imap: { host: 'imap.mail.yahoo.com', port: 993, tls: true },
    hint: 'Sign in with Yahoo, or use an app password (Account security → Generate app password).',
    credentialsFrom: 'yahoo',
    oauthDefaults: {
      // https://developer.yahoo.com/oauth2/guide/flows_authcode/#step-2-get-an-authorization-url-and-authorize-access
      authorizeUrl: 'https://api.login.yahoo.com/oauth2/request_auth',
      // https://developer.yahoo.com/oauth2/guide/flows_authcode/#step-4-exchange-authorization-code-for-access-token
      tokenUrl: 'https://api.login.yahoo.com/oauth2/get_token',
      // https://developer.yahoo.com/oauth2/guide/openid_connect/ (userinfo endpoint)
      userinfoUrl: 'https://api.login.yahoo.com/openid/v1/userinfo',
      // mail-r: read access to Yahoo Mail (IMAP), granted to apps Yahoo approved for mail access;
      // openid + email for the address. Not verified against a live Yahoo app: docs/providers.md.
      scopes: ['openid', 'email', 'mail-r'],
      // https://developer.yahoo.com/oauth2/guide/openid_connect/decode_id_token.html (iss)
      issuers: ['https://api.login.yahoo.com'],
      // Yahoo's examples send the client credentials as HTTP Basic:
      // https://developer.yahoo.com/oauth2/guide/flows_authcode/#step-4-exchange-authorization-code-for-access-token
      tokenEndpointAuth: 'client_secret_basic',
    },
  },
  {
    id: 'icloud',
    name: 'iCloud Mail',
    // https://support.apple.com/102525
    imap: { host: 'imap.mail.me.com', port: 993, tls: true },
    hint: 'iCloud needs an app-specific password (appleid.apple.com → Sign-In and Security).',
  },
  {
    id: 'fastmail',
    name: 'Fastmail',
    // https://www.fastmail.help/hc/en-us/articles/1500000278342
    imap: { host: 'imap.fastmail.com', port: 993, tls: true },
    hint: 'Fastmail needs an app password (Settings → Privacy & Security → App passwords).',
  },
  {
    id: 'aol',
    name: 'AOL Mail',
    // https://help.aol.com/articles/how-do-i-use-other-email-applications-to-send-and-receive-my-aol-mail
    imap: { host: 'imap.aol.com', port: 993, tls: true },
    hint: 'AOL needs an app password (Account Security → Generate app password).',
  },
  {
    id: 'other',
    name: 'Other IMAP server',
    imap: { host: '', port: 993, tls: true },
    hint: 'Your provider documents its IMAP server name; port 993 with TLS is the usual setting.',
  },
];
