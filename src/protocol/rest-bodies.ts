/**
 * @module Request bodies of the REST API, validated with zod. Unknown fields are refused (a typo
 * must not be silently ignored), except the few that RyzeAPI and Evolution clients send anyway.
 */
import { z } from 'zod'
import { WEBSOCKET_EVENTS } from '../core/integrations.js'
import { NAME_PATTERN } from '../core/names.js'
import { STORED_ONLY } from './rest-responses.js'

const text = (max = 2048) => z.string().max(max)
const port = z.union([z.string().regex(/^\d{1,5}$/), z.number().int().min(1).max(65535)]).transform(String)
const events = z.array(z.enum(WEBSOCKET_EVENTS)).max(WEBSOCKET_EVENTS.length)
const url = z.string().max(2048).regex(/^https?:\/\/\S+$/, 'must be an http(s) URL')

export const instanceName = z.string().regex(NAME_PATTERN, 'must be 1–64 of A-Z a-z 0-9 _ . -')

export const createAccountBody = z.strictObject({
  name: instanceName,
  instanceLimit: z.number().int().min(0).max(1_000_000).default(100),
})

/** The behaviour flags, the same in the settings body and inline in the create body. */
const settingsFields = {
  autoRejectCalls: z.boolean().optional().describe('Incoming calls are rejected by the WhatsApp socket, with callRejectMessage.'),
  callRejectMessage: text(1024).optional().describe('Sent to a caller whose call was rejected.'),
  ignoreGroupMessages: z.boolean().optional().describe(STORED_ONLY),
  keepOnlineStatus: z.boolean().optional().describe("Keeps the number's own presence `available` while connected."),
  autoReadMessages: z.boolean().optional().describe(STORED_ONLY),
  disableHistorySync: z.boolean().optional().describe("Turns Baileys' history sync off."),
  ignoreStatus: z.boolean().optional().describe(STORED_ONLY),
}

export const settingsBody = z.strictObject(settingsFields)

export const proxyBody = z.strictObject({
  enabled: z.boolean(),
  host: text(255).optional(),
  port: port.optional(),
  protocol: z.enum(['http', 'https', 'socks4', 'socks5']).optional(),
  username: text(255).optional(),
  password: text(255).optional(),
})

export const s3Body = z
  .strictObject({
    enabled: z.boolean(),
    region: text(64).optional(),
    bucket: text(255).optional(),
    accessKey: text(255).optional(),
    secretKey: text(255).optional(),
    endpoint: z.union([url, z.literal('')]).optional(),
    pathPrefix: text(255).optional(),
  })
  .describe(`The S3 block. ${STORED_ONLY}`)

export const webhookLabel = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,32}$/, 'must be 1–32 of A-Z a-z 0-9 _ . -')
  // Names every JavaScript object already has (constructor, toString, __proto__, …) are no labels.
  .refine((label) => !(label in Object.prototype), 'must not be a name JavaScript objects reserve (constructor, toString, __proto__, …)')

export const webhookBody = z.strictObject({
  label: webhookLabel.default('default'),
  enabled: z.boolean(),
  url: z.union([url, z.literal('')]).optional(),
  authorization: text(1024).optional(),
  byEvents: z.boolean().optional(),
  events: events.optional(),
  mediaBase64: z.boolean().optional(),
  /** Replace the signing secret; the answer carries the new one (`signingSecret`), once. */
  rotateSecret: z.boolean().optional(),
})

/** `POST /api/events/webhookDeliveries/:instance/retry`: every enabled webhook, or one label. */
export const deliveryRetryBody = z.strictObject({ label: webhookLabel.optional() })

const deliveryLimit = 'must be an integer from 1 to 500'
/** The query of `GET /api/events/webhookDeliveries/:instance` (other parameters, like `token`, are not its business). */
/** A whole number in the query string, between `min` and `max`, `fallback` when absent. */
function intQuery(min: number, max: number, fallback: number, message: string) {
  return z
    .string()
    .regex(/^\d{1,9}$/, message)
    .transform(Number)
    .pipe(z.number().int().min(min, message).max(max, message))
    .optional()
    .transform((v) => v ?? fallback)
}

export const deliveriesQuery = z.object({
  label: webhookLabel.optional(),
  status: z.enum(['pending', 'delivered', 'dead'], { error: 'must be pending, delivered or dead' }).optional(),
  limit: intQuery(1, 500, 50, deliveryLimit).describe('At most this many (default 50, at most 500).'),
})

export const websocketBody = z.strictObject({
  enabled: z.boolean(),
  events: events.optional(),
  mediaBase64: z.boolean().optional(),
})

export const createInstanceBody = z.strictObject({
  name: instanceName,
  token: z.string().regex(/^[\x21-\x7e]{32,128}$/, 'choose another token of 32–128 printable characters').optional(),
  // Sent by Evolution-style clients; accepted and ignored.
  integration: z.string().max(64).optional().describe('Accepted and ignored (Evolution API clients send it).'),
  qrcode: z.boolean().optional().describe('Accepted and ignored (Evolution API clients send it); connect with GET /api/instance/connect/:instance.'),

  proxyEnabled: z.boolean().optional(),
  proxyHost: text(255).optional(),
  proxyPort: port.optional(),
  proxyProtocol: z.enum(['http', 'https', 'socks4', 'socks5']).optional(),
  proxyUsername: text(255).optional(),
  proxyPassword: text(255).optional(),

  webhookEnabled: z.boolean().optional(),
  webhookURL: z.union([url, z.literal('')]).optional(),
  webhookAuthorization: text(1024).optional(),
  webhookByEvents: z.boolean().optional(),
  webhookEvents: events.optional(),
  webhookMediaBase64: z.boolean().optional(),

  websocketEnabled: z.boolean().optional(),
  websocketEvents: events.optional(),
  websocketMediaBase64: z.boolean().optional(),

  chatwootEnabled: z.boolean().optional().describe(STORED_ONLY),
  chatwootBaseUrl: z.union([url, z.literal('')]).optional().describe(STORED_ONLY),
  chatwootAccountId: z.number().int().min(0).optional().describe(STORED_ONLY),
  chatwootApiToken: text(512).optional().describe(STORED_ONLY),
  chatwootInboxName: text(255).optional().describe(STORED_ONLY),
  chatwootSignMessages: z.boolean().optional().describe(STORED_ONLY),
  chatwootIgnoreGroups: z.boolean().optional().describe(STORED_ONLY),
  chatwootStartAsPending: z.boolean().optional().describe(STORED_ONLY),
  chatwootReopenResolved: z.boolean().optional().describe(STORED_ONLY),

  ...settingsFields,

  s3Enabled: z.boolean().optional().describe(STORED_ONLY),
  s3Region: text(64).optional().describe(STORED_ONLY),
  s3Bucket: text(255).optional().describe(STORED_ONLY),
  s3AccessKey: text(255).optional().describe(STORED_ONLY),
  s3SecretKey: text(255).optional().describe(STORED_ONLY),
  s3Endpoint: z.union([url, z.literal('')]).optional().describe(STORED_ONLY),
  s3PathPrefix: text(255).optional().describe(STORED_ONLY),
})

export const simCloseBody = z.strictObject({
  code: z.number().int().min(100).max(9999),
  message: text(512).default('Connection Terminated'),
})
export const simOnlineBody = z.strictObject({ online: z.boolean() })
/** What the simulated network does to the instance's next sockets (DNS failure, self-signed TLS, an upgrade that never answers). */
export const simNetworkBody = z.strictObject({ mode: z.enum(['ok', 'unreachable', 'tls', 'hang']) })
/** The open socket receives nothing for `ms` (at most an hour). */
export const simSilenceBody = z.strictObject({ ms: z.number().int().min(1).max(3_600_000) })
export const simProfileBody = z.strictObject({
  name: text(256).optional(),
  pictureUrl: z.union([url, z.null()]).optional(),
  isBusiness: z.boolean().optional(),
  businessName: text(256).optional(),
})

export type CreateInstanceBody = z.infer<typeof createInstanceBody>

/** The first problem of a failed parse, in words that name the field. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]!
  if (issue.code === 'unrecognized_keys') return `Unknown field "${issue.keys[0]}"`
  const path = issue.path.join('.')
  return path === '' ? 'Invalid request body' : `Invalid field "${path}": ${issue.message}`
}

/** `?instanceName=` of the lists and the event stream. */
export const listQuery = z.object({
  instanceName: z
    .string()
    .optional()
    .describe('Comma-separated names or apiInstanceNames. One unknown name is 404; of several, unknown ones are dropped; only commas: an empty list. Ignored for a TokenInstance.'),
})

export const connectQuery = z.object({
  number: z
    .string()
    .regex(/^\d{6,15}$/, 'must be 6–15 digits, country code first')
    .optional()
    .describe('Pair by code with this phone number (digits, country code first) instead of a QR.'),
})

export const historyQuery = z.object({
  since: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T/, 'must be an ISO date-time (2026-03-01T12:00:00Z)')
    .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date-time (2026-03-01T12:00:00Z)')
    .optional()
    .describe('Only entries at or after this time.'),
  limit: intQuery(1, 1000, 100, 'must be a whole number from 1 to 1000').describe('At most this many entries (default 100, at most 1,000).'),
})

export const webhookQuery = z.object({
  label: z.string().optional().describe('One webhook by its label; without it, every webhook of the instance.'),
})
