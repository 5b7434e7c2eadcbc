/**
 * @module Response bodies of the REST API as zod schemas: what `/openapi.json` documents and what
 * the suite validates every real answer against (so the description cannot drift from the code).
 * Objects are strict: a field the code adds or drops without saying so here fails the suite.
 * Schemas with an `id` become components of the API description.
 */
import { z } from 'zod'
import { WEBSOCKET_EVENTS } from '../core/integrations.js'
import { CONNECTION_STATES, type ConnectionState } from '../core/status.js'

/** What the API description says of every setting that statushub stores but does not act on. */
export const STORED_ONLY = 'Stored and returned for RyzeAPI compatibility; no effect here.'

const iso = () => z.iso.datetime()
const count = (noun: string) => z.string().regex(new RegExp(`^\\d+ ${noun}s? found$`), `"<n> ${noun}(s) found"`)

export const errorEnvelope = z
  .strictObject({ success: z.literal(false), error: z.strictObject({ message: z.string() }) })
  .meta({ id: 'ErrorEnvelope', description: 'Every refusal: the status code says the kind, `error.message` says what, in words.' })

/** `{"success":true,"message":…, …payload}`. */
export function ok<S extends z.ZodRawShape>(message: string | z.ZodString, payload: S) {
  return z.strictObject({ success: z.literal(true), message: typeof message === 'string' ? z.literal(message) : message, ...payload })
}

const state = z.enum(CONNECTION_STATES as [ConnectionState, ...ConnectionState[]]).describe('connected, connecting, disconnected or loggedout')

export const closeReason = z
  .strictObject({
    code: z.number().int().nullable().describe('The Baileys/WhatsApp close code; null for a local stop.'),
    name: z.string().describe('The close code by name (connectionClosed, loggedOut, restartRequired, …).'),
    message: z.string(),
  })
  .meta({ id: 'CloseReason', description: 'Why the last socket closed.' })

export const webhookSummary = z
  .strictObject({
    label: z.string(),
    enabled: z.boolean(),
    url: z.string(),
    byEvents: z.boolean(),
    events: z.array(z.string()).describe(`Of ${WEBSOCKET_EVENTS.join(', ')}.`),
    mediaBase64: z.boolean(),
    hasAuthorization: z.boolean().describe('Whether an authorization header value is stored; the value is never returned.'),
  })
  .meta({ id: 'Webhook' })

export const websocketSummary = z
  .strictObject({ enabled: z.boolean(), events: z.array(z.string()).describe(`Of ${WEBSOCKET_EVENTS.join(', ')}.`), mediaBase64: z.boolean() })
  .meta({ id: 'WebsocketIntegration', description: 'Enables `GET /ws/:instance` (RyzeAPI\'s socket) when `enabled` with `instance.state`.' })

export const chatwootSummary = z
  .strictObject({
    enabled: z.boolean(),
    status: z.string(),
    bridgeIntegrationId: z.number().int().nullable(),
    baseUrl: z.string(),
    accountId: z.number().int().nullable(),
    inboxName: z.string(),
    apiToken: z.string(),
    signMessages: z.boolean(),
    ignoreGroups: z.boolean(),
    startAsPending: z.boolean(),
    reopenResolved: z.boolean(),
  })
  .meta({ id: 'Chatwoot', description: `The Chatwoot block. ${STORED_ONLY}` })

export const proxySummary = z
  .strictObject({
    enabled: z.boolean(),
    host: z.string(),
    port: z.string(),
    protocol: z.string().describe('http, https, socks4 or socks5.'),
    username: z.string(),
    hasPassword: z.boolean().describe('Whether a password is stored; it is never returned.'),
  })
  .meta({ id: 'Proxy', description: "The proxy the instance's WhatsApp socket uses, from its next socket on." })

export const settingsSummary = z
  .strictObject({
    autoRejectCalls: z.boolean().describe('Incoming calls are rejected by the WhatsApp socket, with callRejectMessage.'),
    callRejectMessage: z.string().describe('Sent to a caller whose call was rejected.'),
    ignoreGroupMessages: z.boolean().describe(STORED_ONLY),
    keepOnlineStatus: z.boolean().describe("Keeps the number's own presence `available` while connected."),
    autoReadMessages: z.boolean().describe(STORED_ONLY),
    disableHistorySync: z.boolean().describe("Turns Baileys' history sync off."),
    ignoreStatus: z.boolean().describe(STORED_ONLY),
  })
  .meta({ id: 'Settings', description: 'Behaviour flags of one instance.' })

export const s3Summary = z
  .strictObject({
    enabled: z.boolean(),
    region: z.string(),
    bucket: z.string(),
    accessKey: z.string(),
    secretKey: z.null().describe('Never returned.'),
    endpoint: z.string(),
    pathPrefix: z.string(),
  })
  .meta({ id: 'S3', description: `The S3 block. ${STORED_ONLY}` })

export const ryzeItem = z
  .strictObject({
    id: z.number().int(),
    name: z.string(),
    apiInstanceName: z.string().describe('The tenant-prefixed name; accepted wherever `:instance` is.'),
    status: state.describe('Repeats connection.state.'),
    createdAt: iso(),
    updatedAt: iso(),
    version: z.number().int().min(0).describe('Grows by one with every change to this item.'),
    connection: z.strictObject({
      state,
      numberJid: z.string().nullable(),
      presenceStatus: z.string().describe('The number\'s own presence: available or unavailable.'),
      displayStatus: z.string().describe('Human text: Online, Connecting…, Waiting for QR scan, Reconnecting (connection lost), attempt 2, Logged out.'),
      since: iso().describe('When state last changed.'),
      reason: closeReason.nullable(),
      retryAt: iso().nullable().describe('The next scheduled reconnect attempt, or null.'),
      synced: z.boolean().describe('The offline backlog has been received on this connection (Baileys\' receivedPendingNotifications).'),
      historySync: z
        .strictObject({ progress: z.number().nullable(), isLatest: z.boolean() })
        .nullable()
        .describe('History sync progress when history sync is on and something was synced on this connection; null otherwise.'),
      closeDetail: z.string().nullable().describe('The close\'s own detail (for 401: device_removed or a logout; for 440: replaced; for bans: what WhatsApp sent), or null.'),
    }),
    profile: z.strictObject({ name: z.string(), pictureUrl: z.string().nullable(), isBusiness: z.boolean(), businessName: z.string() }),
    webhook: webhookSummary.describe('The `default` webhook.'),
    websocket: websocketSummary,
    chatwoot: chatwootSummary,
    proxy: proxySummary,
    settings: settingsSummary,
    s3: s3Summary,
  })
  .meta({ id: 'RyzeItem', description: 'One instance in the RyzeAPI list shape (also the items of stream snapshots).' })

export const wachatItem = z
  .strictObject({
    id: z.number().int(),
    instanceName: z.string(),
    displayName: z.string(),
    apiInstanceName: z.string(),
    internalName: z.string(),
    state: z.enum(['open', 'connecting', 'close']),
    status: z.enum(['open', 'connecting', 'close']),
    isConnected: z.boolean(),
    number: z.string().regex(/^\d+$/).nullable(),
    profileName: z.string().nullable(),
    profilePictureUrl: z.string().nullable(),
    profilePicUrl: z.string().nullable(),
    owner: z.string().nullable(),
    integration: z.string().describe('Always WHATSAPP-BAILEYS.'),
    createdAt: iso(),
    updatedAt: iso(),
  })
  .meta({ id: 'WachatItem', description: 'One instance in the Wachat list shape.' })

export const health = z.strictObject({ success: z.literal(true), status: z.literal('ok') })
export const ready = z.strictObject({ success: z.literal(true), status: z.literal('ready') })
export const clusterAnswer = z.strictObject({
  success: z.literal(true),
  epoch: z.string(),
  nodes: z.array(
    z.strictObject({
      id: z.string(),
      roles: z.array(z.enum(['worker', 'edge'])),
      instances: z.number().int().min(0).describe('Socket leases held: the WhatsApp sockets this node drives.'),
      accounts: z.number().int().min(0).describe('Writer leases held: the accounts whose changes this node orders.'),
      webhooks: z.number().int().min(0).describe("The accounts whose webhooks the node delivers: each account's writer delivers them (caught up with the change stream)."),
      lastSeenAt: iso(),
    }),
  ),
})

export const ryzeList = ok(count('Instance'), { instances: z.array(ryzeItem) }).meta({ id: 'RyzeList' })
export const wachatList = z.strictObject({ success: z.literal(true), count: z.number().int().min(0), instances: z.array(wachatItem) }).meta({ id: 'WachatList' })

const account = z.strictObject({ id: z.number().int(), name: z.string(), instanceLimit: z.number().int() })
export const accountCreated = ok('Account created', { account, token: z.string().describe('The TokenAccount, shown this once.') })
export const accountList = ok(count('Account'), {
  accounts: z.array(z.strictObject({ ...account.shape, instances: z.number().int().min(0), createdAt: iso() })),
})
export const accountDeleted = ok('Account deleted', { account: z.strictObject({ status: z.literal('deleted') }) })
export const accountTokenRotated = ok('Account token rotated', { token: z.string().describe('The new TokenAccount; the old one stops working at once.') })

export const instanceCreated = ok('Instance created', {
  instance: z.strictObject({
    id: z.number().int(),
    name: z.string(),
    apiInstanceName: z.string(),
    token: z.string().describe('The TokenInstance, shown this once.'),
    status: state,
  }),
  signingSecret: z.string().optional().describe('The inline webhook\'s signing secret (`whsec_…`), when one was enabled: shown this once.'),
})
export const instanceDeleted = ok('Instance deleted', { instance: z.strictObject({ status: z.literal('deleted') }) })
export const instanceTokenRotated = ok('Instance token rotated', { instance: z.strictObject({ id: z.number().int(), name: z.string(), token: z.string() }) })

export const settingsUpdated = ok('Settings updated', { settings: settingsSummary })
export const settingsRead = ok('Settings retrieved', { settings: settingsSummary })
export const proxyUpdated = ok('Proxy configuration updated; it applies from the next connection (reconnect to use it now)', { proxy: proxySummary })
export const proxyRead = ok('Proxy configuration retrieved successfully', { proxy: proxySummary })
export const s3Updated = ok('S3 configuration updated', { s3: s3Summary })
export const s3Read = ok('S3 configuration retrieved', { s3: s3Summary })
export const webhookUpdated = ok('Webhook configured', {
  webhook: webhookSummary,
  signingSecret: z.string().optional().describe('The Standard Webhooks signing secret (`whsec_…`), when the label was first enabled or rotated: shown this once.'),
})
export const webhookRead = z.union([ok('Webhook retrieved', { webhook: webhookSummary }), ok(count('Webhook'), { webhooks: z.array(webhookSummary) })])
export const websocketUpdated = ok('WebSocket configured', { websocket: websocketSummary })
export const websocketRead = ok('WebSocket configuration retrieved', { websocket: websocketSummary })

export const connectAnswer = z.union([
  ok('QR code generated', {
    qrCode: z.string().describe("The raw QR string from Baileys' connection.update."),
    qrCodeBase64: z.string().regex(/^data:image\/png;base64,/).describe('The QR as a PNG data URI.'),
    status: z.literal('qr'),
  }),
  ok('Pairing code generated', { pairingCode: z.string(), status: z.literal('pairing') }),
  ok('Instance already connected', { status: z.literal('connected') }),
])
export const reconnectAnswer = ok('Reconnect initiated', { status: state.describe('The state the reconnect left the instance in.') })
export const logoutAnswer = ok('Instance logged out', {
  instance: z.strictObject({ status: z.literal('loggedout') }),
  unlinkSent: z.boolean().describe('Whether the unlink request was written to WhatsApp (it is never confirmed).'),
  warning: z.string().optional().describe('Present when the unlink could not be sent: the phone may still list this device.'),
})

/** `{"success":true,"message":<message>}` and nothing else. */
export const done = (message: string) => ok(message, {})
export const simStatus = ok('Simulated WhatsApp mode', {
  simulated: z.literal(true),
  conflicts: z.number().int().min(0).describe('Times two live sockets of one number overlapped for longer than max(2 s, TTL / 5); 0 in one process, where a later login closes the older at once.'),
})

export const historyAnswer = ok(z.string(), {
  instance: z.string(),
  history: z.array(
    z.strictObject({ at: iso(), seq: z.number().int(), state, reason: closeReason.nullable(), displayStatus: z.string() }),
  ).describe('One entry per change of connection.state or connection.reason, newest first.'),
  uptime: z.strictObject({
    share24h: z.number().min(0).max(1).describe('Share of the window spent connected.'),
    connectedMs: z.number().int(),
    windowMs: z.number().int().describe('The last 24 h, or since the instance was created when it is younger.'),
  }),
  liveness: z.strictObject({
    lastFrameAt: iso().nullable().describe('The last frame received from WhatsApp on this instance\'s socket, or null.'),
    connectedSince: iso().nullable(),
  }),
})

const delivery = z
  .strictObject({
    id: z.string().describe('The webhook-id header of the delivery: stable across retries.'),
    label: z.string(),
    event: z.literal('instance.state'),
    seq: z.number().int(),
    version: z.number().int(),
    status: z.enum(['pending', 'delivered', 'dead']),
    attempts: z.number().int(),
    createdAt: iso(),
    lastAttemptAt: iso().nullable(),
    lastError: z.string().nullable().describe('The HTTP status or the network error of the last attempt.'),
    nextAttemptAt: iso().nullable(),
  })
  .meta({ id: 'WebhookDelivery' })
export const deliveriesAnswer = ok(z.string(), { deliveries: z.array(delivery).describe('Newest first.') })
export const deliveriesRequeued = ok(z.string(), { requeued: z.number().int() })
export const simNetworkAnswer = ok(z.string(), { mode: z.enum(['ok', 'unreachable', 'tls', 'hang']) })
export const simSilenceAnswer = ok('Silence simulated', { ms: z.number().int() })

export const sseStream = z.string().describe(
  'One event per change: `id: <epoch>:<seq>`, `event: snapshot|resumed|diff|added|removed`, `data:` the same JSON as the WebSocket frame (docs/protocol.md).',
)

/** The API description itself (its own shape is OpenAPI's). */
export const openApiDocument = z.looseObject({ openapi: z.literal('3.1.0'), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) })

export const metricsText = z.string().describe(
  'The Prometheus text exposition format (version 0.0.4), from prom-client: the statushub_* series and the default Node metrics (process_*, nodejs_*).',
)
