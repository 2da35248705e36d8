import { z } from 'zod';
import { ROUTES, type Access, type RouteDoc } from './openapi.routes';

type JsonSchema = Record<string, unknown>;

/** OpenAPI 3.1 speaks JSON Schema 2020-12, which is what zod emits. */
function jsonSchema(schema: z.ZodType): JsonSchema {
  // `input`: what a client sends (defaults optional), not what a handler receives after parsing.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  });
  return rest;
}

/** Every error the API sends (apps/api/src/common/api-error.ts). */
const apiErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

const SECURITY: Readonly<Record<Access, readonly Record<string, string[]>[]>> = {
  public: [],
  admin: [{ adminToken: [] }],
  user: [{ apiKey: [] }],
  link: [{ linkToken: [] }],
};

function isRecord(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pathParameters(path: string) {
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
}

function queryParameters(query: z.ZodObject | undefined) {
  if (!query) return [];
  const schema = jsonSchema(query);
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema: property,
  }));
}

function responses(route: RouteDoc) {
  return Object.fromEntries(
    Object.entries(route.responses).map(([status, description]) => {
      const code = Number(status);
      if (code >= 400 && route.produces !== 'text/html') {
        return [
          status,
          { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/ApiError' } } } },
        ];
      }
      if (code === 204 || code === 302) return [status, { description }];
      return [status, { description, content: { [route.produces ?? 'application/json']: {} } }];
    }),
  );
}

function operation(route: RouteDoc) {
  return {
    operationId: `${route.method} ${route.path}`,
    summary: route.summary,
    tags: [route.tag],
    security: SECURITY[route.access],
    parameters: [...pathParameters(route.path), ...queryParameters(route.query)],
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } } }
      : {}),
    responses: responses(route),
  };
}

/** The OpenAPI 3.1 document of the REST API, built from the route list and the request schemas. */
export function buildOpenApiDocument() {
  const paths: Record<string, Record<string, ReturnType<typeof operation>>> = {};
  for (const route of ROUTES) (paths[route.path] ??= {})[route.method] = operation(route);
  return {
    openapi: '3.1.1',
    info: {
      title: 'mailpush',
      // The API's own version (its paths' /v1), not the package's.
      version: 'v1',
      description: 'Push email relay: link mailboxes and devices; new mail becomes a notification. See docs/api.md.',
    },
    paths,
    components: {
      schemas: { ApiError: jsonSchema(apiErrorSchema) },
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'MAILPUSH_ADMIN_TOKEN' },
        apiKey: { type: 'http', scheme: 'bearer', description: "A user's API key (POST /v1/users)" },
        linkToken: { type: 'http', scheme: 'bearer', description: 'A link session token (`mpl_…`)' },
      },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
