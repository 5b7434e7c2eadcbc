/**
 * @module The API description (OpenAPI 3.1), generated from the route table alone: each route's
 * zod schemas (request bodies and queries in their input form, responses in their output form)
 * converted by zod 4's `z.toJSONSchema`, never a second hand-written copy. Schemas that carry an
 * `id` (`.meta({ id })`) become shared components.
 */
import { z } from 'zod'
import { STORED_ONLY, errorEnvelope } from '../../protocol/rest-responses.js'
import type { RegisteredRoute, RouteSpec } from './route.js'

export interface ApiInfo {
  title: string
  version: string
}

type Json = Record<string, unknown>

const ERRORS: Record<number, string> = {
  400: 'Malformed input (bad JSON, a wrong type, an unknown field, a bad query value, a body over 64 KiB): `Invalid request body` or a message naming the field. Nothing changed.',
  401: '`Missing token in header, Authorization header, or query parameter`, or `Invalid token`.',
  403: 'The token cannot do this: `Admin token required`, `Account token required`, `Token does not have access to this instance`, `Account instance quota exceeded`.',
  404: '`Instance not found` (also for another account\'s instances), `Account not found`, `Not found`.',
  409: 'A conflict: `Instance name already in use`, `Account name already in use`.',
  429: '`Rate limit exceeded. Try again later.`, with `Retry-After`.',
  502: 'WhatsApp (or the way to it) failed.',
  503: 'Unavailable here: `WhatsApp connections are not enabled on this hub`.',
  504: 'WhatsApp did not answer in time.',
}

const PARAMS: Record<string, string> = {
  instance: "The instance's name within the token's account, or its apiInstanceName.",
  id: "The account's numeric id.",
}

const WHO: Record<string, string> = {
  public: 'No token.',
  admin: 'Token: the admin token.',
  tenant: "Token: a TokenAccount, or the instance's TokenInstance.",
  account: 'Token: a TokenAccount.',
  metrics: 'Token: `HUB_METRICS_TOKEN` when it is set (then no other token, the admin token included), otherwise the admin token.',
}

const DESCRIPTION = `statushub: the realtime status of WhatsApp instances, over REST (RyzeAPI and Wachat list shapes) and streams.

- Every answer is JSON: \`{"success":true,"message":"…", …}\` or \`{"success":false,"error":{"message":"…"}}\`.
- Tokens go in a \`token\` header, \`Authorization: Bearer <token>\`, or \`?token=\` (the header wins). Every authenticated answer carries \`X-RateLimit-Limit\`, \`X-RateLimit-Remaining\` and \`X-RateLimit-Reset\`.
- Every GET also answers HEAD; every path answers OPTIONS and, for other methods, 405 with \`Allow\`; API routes take a trailing slash. Unknown query fields are ignored.
- CORS for the origins in \`HUB_CORS_ORIGINS\` only.
- Streams: \`GET /ws\` (the account stream) and \`GET /ws/:instance\` (RyzeAPI's socket) are WebSocket upgrades, described frame by frame in docs/protocol.md; \`GET /api/instance/stream\` is Server-Sent Events.
- Settings stored only: \`ignoreGroupMessages\`, \`autoReadMessages\`, \`ignoreStatus\` and the chatwoot and s3 blocks are ${STORED_ONLY.charAt(0).toLowerCase()}${STORED_ONLY.slice(1)} \`keepOnlineStatus\`, \`disableHistorySync\` and \`autoRejectCalls\` (with \`callRejectMessage\`) act on the WhatsApp socket.`

const HEADERS: Record<string, { description: string; schema: Json }> = {
  'X-RateLimit-Limit': { description: 'Requests allowed per window for this token.', schema: { type: 'integer' } },
  'X-RateLimit-Remaining': { description: 'Requests left in the window.', schema: { type: 'integer' } },
  'X-RateLimit-Reset': { description: 'When the window resets, in Unix seconds.', schema: { type: 'integer' } },
  'Retry-After': { description: 'Seconds until a request may succeed.', schema: { type: 'integer' } },
  ETag: { description: 'A strong tag per body and coding (`"…"`, `"…-br"`, `"…-gzip"`).', schema: { type: 'string' } },
  'X-Hub-Epoch': { description: 'The stream epoch this body reflects.', schema: { type: 'string' } },
  'X-Hub-Seq': { description: 'The stream position this body reflects: subscribe `since` it.', schema: { type: 'integer' } },
}

/** `GET /api/admin/accounts/:id` → `getApiAdminAccountsById`. */
export function operationId(method: string, pattern: string): string {
  const words = pattern
    .split('/')
    .filter((s) => s !== '')
    .map((s) => (s.startsWith(':') ? `by-${s.slice(1)}` : s))
    .flatMap((s) => s.split(/[^A-Za-z0-9]+/))
    .filter((s) => s !== '')
  return method.toLowerCase() + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')
}

/** The first sentence, without its full stop. */
function summary(description: string): string {
  const m = /^(.+?[.!?])(\s|$)/.exec(description)
  return (m === null ? description : m[1]!).replace(/\.$/, '')
}

/** The statuses a route may answer besides its success. */
export function errorStatuses(spec: RouteSpec, pattern: string): number[] {
  const out = new Set<number>(spec.errors ?? [])
  if ((spec.who ?? 'tenant') !== 'public') for (const s of [401, 403, 429]) out.add(s)
  if (pattern.includes('/:')) out.add(404)
  if (spec.body !== undefined || spec.query !== undefined) out.add(400)
  return [...out].sort((a, b) => a - b)
}

/** The document's path for a uWS pattern: `/api/instance/delete/{instance}`. */
export function openApiPath(pattern: string): string {
  return pattern.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

export function buildOpenApi(routes: readonly RegisteredRoute[], info: ApiInfo): Json {
  const requests = z.registry<{ id: string }>()
  const responses = z.registry<{ id: string }>()
  const ids = new Set<string>()
  const name = (reg: typeof requests, schema: z.ZodType, fallback: string): string => {
    const have = reg.get(schema)
    if (have !== undefined) return have.id
    let id = (z.globalRegistry.get(schema)?.id as string | undefined) ?? fallback
    for (let n = 2; ids.has(id); n++) id = `${fallback}${n}`
    ids.add(id)
    reg.add(schema, { id })
    return id
  }
  name(responses, errorEnvelope, 'ErrorEnvelope')

  const paths: Record<string, Record<string, Json>> = {}
  for (const route of routes) {
    const { spec, pattern } = route
    const op = operationId(route.method, pattern)
    const who = spec.who ?? 'tenant'
    const parameters: Json[] = []
    for (const m of pattern.matchAll(/:([A-Za-z0-9_]+)/g)) {
      const param = m[1]!
      const example = spec.example?.params?.[param]
      parameters.push({ name: param, in: 'path', required: true, description: PARAMS[param] ?? `The ${param}.`, schema: { type: 'string' }, ...(example === undefined ? {} : { example }) })
    }
    if (spec.query !== undefined) {
      for (const [key, field] of Object.entries(spec.query.shape)) {
        const schema = strip(z.toJSONSchema(field as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Json)
        const { description, ...rest } = schema
        const example = spec.example?.query?.[key]
        parameters.push({
          name: key,
          in: 'query',
          required: !(field as z.ZodType).safeParse(undefined).success,
          ...(typeof description === 'string' ? { description } : {}),
          schema: rest,
          ...(example === undefined ? {} : { example }),
        })
      }
    }
    const operation: Json = {
      tags: [spec.tag],
      summary: summary(spec.description),
      description: `${spec.description}\n\n${WHO[who]}`,
      operationId: op,
      security: who === 'public' ? [] : [{ token: [] }, { bearer: [] }, { tokenQuery: [] }],
    }
    if (parameters.length > 0) operation.parameters = parameters
    if (spec.body !== undefined) {
      const id = name(requests, spec.body, `${cap(op)}Body`)
      const example = spec.example?.body
      operation.requestBody = {
        // An empty body reads as {}.
        required: !spec.body.safeParse({}).success,
        content: { 'application/json': { schema: ref(id), ...(example === undefined ? {} : { example }) } },
      }
    }
    const authed = who !== 'public'
    const rateHeaders = authed ? { 'X-RateLimit-Limit': hdr('X-RateLimit-Limit'), 'X-RateLimit-Remaining': hdr('X-RateLimit-Remaining'), 'X-RateLimit-Reset': hdr('X-RateLimit-Reset') } : {}
    const positionHeaders = spec.conditional ? { ETag: hdr('ETag'), 'X-Hub-Epoch': hdr('X-Hub-Epoch'), 'X-Hub-Seq': hdr('X-Hub-Seq') } : {}
    const produces = spec.produces ?? 'application/json'
    const success =
      produces === 'application/json'
        ? { 'application/json': { schema: ref(name(responses, spec.response, `${cap(op)}Response`)) } }
        : { [produces]: { schema: strip(z.toJSONSchema(spec.response, { io: 'output' }) as Json) } }
    const answers: Record<string, Json> = {
      [String(spec.status ?? 200)]: { description: summary(spec.description), headers: { ...rateHeaders, ...positionHeaders }, content: success },
    }
    if (spec.conditional) answers['304'] = { description: 'Not modified: `If-None-Match` named the current ETag. No body.', headers: { ...rateHeaders, ...positionHeaders } }
    for (const status of errorStatuses(spec, pattern)) {
      answers[String(status)] = {
        description: ERRORS[status] ?? 'An error.',
        headers: status === 429 ? { ...rateHeaders, 'Retry-After': hdr('Retry-After') } : rateHeaders,
        content: { 'application/json': { schema: ref('ErrorEnvelope') } },
      }
    }
    operation.responses = answers
    ;(paths[openApiPath(pattern)] ??= {})[route.method.toLowerCase()] = operation
  }

  const schemas: Record<string, Json> = {}
  for (const [reg, io] of [
    [requests, 'input'],
    [responses, 'output'],
  ] as const) {
    const converted = z.toJSONSchema(reg, { io, uri: (id) => `#/components/schemas/${id}` }).schemas as Record<string, Json>
    for (const [id, schema] of Object.entries(converted)) {
      if (id === '__shared') {
        for (const [sid, s] of Object.entries((schema.$defs ?? {}) as Record<string, Json>)) schemas[sid] ??= s
      } else {
        schemas[id] = strip(schema)
      }
    }
  }

  return flattenRefs({
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, description: DESCRIPTION, license: { name: 'See the repository' } },
    tags: [...new Set(routes.map((r) => r.spec.tag))].map((t) => ({ name: t })),
    paths,
    components: {
      schemas,
      headers: HEADERS,
      securitySchemes: {
        token: { type: 'apiKey', in: 'header', name: 'token', description: 'The token in a `token` header.' },
        bearer: { type: 'http', scheme: 'bearer', description: '`Authorization: Bearer <token>`.' },
        tokenQuery: { type: 'apiKey', in: 'query', name: 'token', description: '`?token=<token>`, for browsers (EventSource, WebSocket).' },
      },
    },
  }) as Json
}

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` })
const hdr = (name: string) => ({ $ref: `#/components/headers/${name}` })

/** A schema as a component or inline: without `$schema` and `$id` (the document is their base). */
function strip(schema: Json): Json {
  const { $schema: _s, $id: _i, ...rest } = schema
  return rest
}

/** Rewrites zod's `…/__shared#/$defs/X` references to the component `X`. */
function flattenRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(flattenRefs)
  if (value === null || typeof value !== 'object') return value
  const out: Json = {}
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/__shared#/$defs/', '#/components/schemas/') : flattenRefs(v)
  }
  return out
}
