/**
 * @module Request bodies of the REST API, validated with zod. Unknown fields are refused (a typo
 * must not be silently ignored), except the few that RyzeAPI and Evolution clients send anyway.
 */
import { z } from 'zod'
import { WEBSOCKET_EVENTS } from '../core/integrations.js'
import { NAME_PATTERN } from '../core/names.js'

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
  autoRejectCalls: z.boolean().optional(),
  callRejectMessage: text(1024).optional(),
  ignoreGroupMessages: z.boolean().optional(),
  keepOnlineStatus: z.boolean().optional(),
  autoReadMessages: z.boolean().optional(),
  disableHistorySync: z.boolean().optional(),
  ignoreStatus: z.boolean().optional(),
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

export const s3Body = z.strictObject({
  enabled: z.boolean(),
  region: text(64).optional(),
  bucket: text(255).optional(),
  accessKey: text(255).optional(),
  secretKey: text(255).optional(),
  endpoint: z.union([url, z.literal('')]).optional(),
  pathPrefix: text(255).optional(),
})

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
export const deliveriesQuery = z.object({
  label: webhookLabel.optional(),
  status: z.enum(['pending', 'delivered', 'dead'], { error: 'must be pending, delivered or dead' }).optional(),
  limit: z.coerce.number({ error: deliveryLimit }).int(deliveryLimit).min(1, deliveryLimit).max(500, deliveryLimit).default(50),
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
  integration: z.string().max(64).optional(),
  qrcode: z.boolean().optional(),

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

  chatwootEnabled: z.boolean().optional(),
  chatwootBaseUrl: z.union([url, z.literal('')]).optional(),
  chatwootAccountId: z.number().int().min(0).optional(),
  chatwootApiToken: text(512).optional(),
  chatwootInboxName: text(255).optional(),
  chatwootSignMessages: z.boolean().optional(),
  chatwootIgnoreGroups: z.boolean().optional(),
  chatwootStartAsPending: z.boolean().optional(),
  chatwootReopenResolved: z.boolean().optional(),

  ...settingsFields,

  s3Enabled: z.boolean().optional(),
  s3Region: text(64).optional(),
  s3Bucket: text(255).optional(),
  s3AccessKey: text(255).optional(),
  s3SecretKey: text(255).optional(),
  s3Endpoint: z.union([url, z.literal('')]).optional(),
  s3PathPrefix: text(255).optional(),
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
