/**
 * @module Pure upserts of an instance's integration settings. Each returns a new InstanceConfig or
 * throws an `invalid` HubError without touching the old one, so a refused request changes nothing.
 */
import { HubError } from './errors.js'
import {
  MAX_ENABLED_WEBHOOKS,
  WEBSOCKET_EVENTS,
  defaultConfig,
  defaultWebhook,
  webhookMap,
  webhookOf,
  type InstanceConfig,
  type SettingsConfig,
  type WebhookConfig,
} from './integrations.js'

type Opt<T> = { [K in keyof T]?: T[K] | undefined }

export interface ProxyInput {
  enabled: boolean
  host?: string
  port?: string
  protocol?: string
  username?: string
  password?: string
}
export interface S3Input {
  enabled: boolean
  region?: string
  bucket?: string
  accessKey?: string
  secretKey?: string
  endpoint?: string
  pathPrefix?: string
}
export interface WebhookInput {
  label: string
  enabled: boolean
  url?: string
  authorization?: string
  byEvents?: boolean
  events?: string[]
  mediaBase64?: boolean
  /** Replace the signing secret (the new one is answered once). */
  rotateSecret?: boolean
}
export interface WebsocketInput {
  enabled: boolean
  events?: string[]
  mediaBase64?: boolean
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

export function withSettings(c: InstanceConfig, s: Opt<SettingsConfig>): InstanceConfig {
  return { ...c, settings: { ...c.settings, ...defined(s) } }
}

export function withProxy(c: InstanceConfig, p: ProxyInput): InstanceConfig {
  const next = { ...c.proxy, ...defined(p) }
  if (!p.enabled) return { ...c, proxy: { ...defaultConfig().proxy } }
  if (next.host === '' || next.port === '') throw new HubError('invalid', 'Invalid field "host": host and port are required when the proxy is enabled')
  return { ...c, proxy: next }
}

export function withS3(c: InstanceConfig, s: S3Input): InstanceConfig {
  // Disabling deletes the credentials, as RyzeAPI does.
  if (!s.enabled) return { ...c, s3: { ...defaultConfig().s3 } }
  const next = { ...c.s3, ...defined(s) }
  if (next.bucket === '' || next.accessKey === '' || next.secretKey === '') {
    throw new HubError('invalid', 'Invalid field "bucket": bucket, accessKey and secretKey are required when S3 is enabled')
  }
  return { ...c, s3: next }
}

/**
 * `freshSecret` becomes the signing secret when the label is first enabled or when the input asks
 * to rotate it (callers generate one per call; core draws no randomness). Re-enabling a disabled
 * label keeps the secret it had.
 */
export function withWebhook(c: InstanceConfig, w: WebhookInput, freshSecret: string): InstanceConfig {
  const { rotateSecret, ...fields } = w
  if (rotateSecret === true && !w.enabled) throw new HubError('invalid', 'Invalid field "rotateSecret": only an enabled webhook has a signing secret to rotate')
  const prev = webhookOf(c, w.label) ?? defaultWebhook(w.label)
  const next: WebhookConfig = w.enabled
    ? { ...prev, ...defined(fields) }
    : // Disabling keeps the row (and its signing secret) but clears where it pointed.
      { ...prev, enabled: false, url: '', authorization: '', events: [], mediaBase64: false, byEvents: w.byEvents ?? prev.byEvents }
  if (next.enabled && next.url === '') throw new HubError('invalid', 'Invalid field "url": required when the webhook is enabled')
  if (next.enabled && (rotateSecret === true || !prev.signingSecret)) next.signingSecret = freshSecret
  else next.signingSecret = prev.signingSecret ?? ''
  const webhooks = webhookMap({ ...c.webhooks, [w.label]: next })
  if (Object.values(webhooks).filter((h) => h.enabled).length > MAX_ENABLED_WEBHOOKS) {
    throw new HubError('invalid', `At most ${MAX_ENABLED_WEBHOOKS} enabled webhooks per instance`)
  }
  return { ...c, webhooks }
}

/** The webhook stays configured (its URL shows what was turned off) but receives nothing (a 410 answer). */
export function withWebhookDisabled(c: InstanceConfig, label: string): InstanceConfig {
  const hook = webhookOf(c, label)
  if (hook === undefined || !hook.enabled) return c
  return { ...c, webhooks: webhookMap({ ...c.webhooks, [label]: { ...hook, enabled: false } }) }
}

/**
 * Gives every enabled webhook without a signing secret one (webhooks enabled before signing
 * existed). Returns `c` itself when none lacks one.
 */
export function withSigningSecrets(c: InstanceConfig, freshSecret: () => string): InstanceConfig {
  let webhooks: Record<string, WebhookConfig> | null = null
  for (const [label, w] of Object.entries(c.webhooks)) {
    if (w.enabled && !w.signingSecret) (webhooks ??= webhookMap(c.webhooks))[label] = { ...w, signingSecret: freshSecret() }
  }
  return webhooks === null ? c : { ...c, webhooks }
}

export function withWebsocket(c: InstanceConfig, w: WebsocketInput): InstanceConfig {
  return {
    ...c,
    websocket: {
      configured: true,
      enabled: w.enabled,
      // Omitting events subscribes to all of them.
      events: w.events ?? (w.enabled ? [...WEBSOCKET_EVENTS] : c.websocket.events),
      mediaBase64: w.mediaBase64 ?? c.websocket.mediaBase64,
    },
  }
}

/**
 * The RyzeAPI create body's inline blocks; a block is applied only when one of its fields is
 * present. `freshSecret` signs the inline webhook when it is enabled.
 */
export function configFromCreate(b: Record<string, unknown>, freshSecret: string): InstanceConfig {
  let c = defaultConfig()
  const has = (prefix: string) => Object.keys(b).some((k) => k.startsWith(prefix) && b[k] !== undefined)
  const s = (k: string) => b[k] as string | undefined
  const bool = (k: string) => b[k] as boolean | undefined

  c = withSettings(c, {
    autoRejectCalls: bool('autoRejectCalls'),
    callRejectMessage: s('callRejectMessage'),
    ignoreGroupMessages: bool('ignoreGroupMessages'),
    keepOnlineStatus: bool('keepOnlineStatus'),
    autoReadMessages: bool('autoReadMessages'),
    disableHistorySync: bool('disableHistorySync'),
    ignoreStatus: bool('ignoreStatus'),
  })
  if (has('proxy')) {
    c = withProxy(c, {
      enabled: bool('proxyEnabled') ?? true,
      host: s('proxyHost'),
      port: s('proxyPort'),
      protocol: s('proxyProtocol'),
      username: s('proxyUsername'),
      password: s('proxyPassword'),
    } as ProxyInput)
  }
  if (has('webhook')) {
    c = withWebhook(c, {
      label: 'default',
      enabled: bool('webhookEnabled') ?? true,
      url: s('webhookURL'),
      authorization: s('webhookAuthorization'),
      byEvents: bool('webhookByEvents'),
      events: b.webhookEvents as string[] | undefined,
      mediaBase64: bool('webhookMediaBase64'),
    } as WebhookInput, freshSecret)
  }
  if (has('websocket')) {
    c = withWebsocket(c, {
      enabled: bool('websocketEnabled') ?? true,
      events: b.websocketEvents as string[] | undefined,
      mediaBase64: bool('websocketMediaBase64'),
    } as WebsocketInput)
  }
  if (has('chatwoot')) {
    const enabled = bool('chatwootEnabled') ?? true
    c = {
      ...c,
      chatwoot: {
        ...c.chatwoot,
        ...defined({
          baseUrl: s('chatwootBaseUrl'),
          accountId: b.chatwootAccountId as number | undefined,
          apiToken: s('chatwootApiToken'),
          inboxName: s('chatwootInboxName'),
          signMessages: bool('chatwootSignMessages'),
          ignoreGroups: bool('chatwootIgnoreGroups'),
          startAsPending: bool('chatwootStartAsPending'),
          reopenResolved: bool('chatwootReopenResolved'),
        }),
        enabled,
        // No Chatwoot bridge runs in this hub: the settings are kept, and said to be waiting for one.
        status: enabled ? 'pending' : '',
      },
    }
  }
  if (has('s3')) {
    c = withS3(c, {
      enabled: bool('s3Enabled') ?? true,
      region: s('s3Region'),
      bucket: s('s3Bucket'),
      accessKey: s('s3AccessKey'),
      secretKey: s('s3SecretKey'),
      endpoint: s('s3Endpoint'),
      pathPrefix: s('s3PathPrefix'),
    } as S3Input)
  }
  return c
}

/**
 * One settings request as plain data: a cluster node sends it to the account's writer, which
 * applies it to the config it holds (never to a follower's possibly older copy).
 */
export type ConfigUpdate =
  | { kind: 'settings'; settings: Opt<SettingsConfig> }
  | { kind: 'proxy'; proxy: ProxyInput }
  | { kind: 's3'; s3: S3Input }
  | { kind: 'webhook'; webhook: WebhookInput }
  | { kind: 'websocket'; websocket: WebsocketInput }
  /** The webhook's receiver answered 410 Gone: disabled, its URL kept (withWebhookDisabled). */
  | { kind: 'webhookGone'; label: string }
  /** Every enabled webhook without a signing secret gets one (withSigningSecrets). */
  | { kind: 'signingSecrets' }

/** `freshSecret` is drawn only when the update enables or rotates a webhook's signing secret, or gives missing ones. */
export function applyConfigUpdate(c: InstanceConfig, u: ConfigUpdate, freshSecret: () => string): InstanceConfig {
  switch (u.kind) {
    case 'settings':
      return withSettings(c, u.settings)
    case 'proxy':
      return withProxy(c, u.proxy)
    case 's3':
      return withS3(c, u.s3)
    case 'webhook':
      return withWebhook(c, u.webhook, freshSecret())
    case 'websocket':
      return withWebsocket(c, u.websocket)
    case 'webhookGone':
      return withWebhookDisabled(c, u.label)
    case 'signingSecrets':
      return withSigningSecrets(c, freshSecret)
  }
}
