/**
 * @module Per-instance integration settings (RyzeAPI's inline blocks) and their public summaries.
 * The stored form holds secrets; only the `summary*` functions may feed a response or a frame,
 * and they never copy a secret (proxy password, S3 secret key, webhook authorization and signing
 * secret).
 */

export interface WebhookConfig {
  label: string
  enabled: boolean
  url: string
  authorization: string
  byEvents: boolean
  events: string[]
  mediaBase64: boolean
  /**
   * The Standard Webhooks signing secret, `whsec_<base64 of 32 random bytes>`: set when the label is
   * first enabled, replaced only on request, kept while disabled. '' until then (and in rows
   * written before signing existed, which the webhook edge upgrades at start).
   */
  signingSecret: string
}

export interface WebsocketConfig {
  /** False until the websocket block was set once: "never configured" and "disabled" differ. */
  configured: boolean
  enabled: boolean
  events: string[]
  mediaBase64: boolean
}

export interface ChatwootConfig {
  enabled: boolean
  status: string
  bridgeIntegrationId: number | null
  baseUrl: string
  accountId: number | null
  inboxName: string
  apiToken: string
  signMessages: boolean
  ignoreGroups: boolean
  startAsPending: boolean
  reopenResolved: boolean
}

export interface ProxyConfig {
  enabled: boolean
  host: string
  port: string
  protocol: string
  username: string
  password: string
}

export interface SettingsConfig {
  autoRejectCalls: boolean
  callRejectMessage: string
  ignoreGroupMessages: boolean
  keepOnlineStatus: boolean
  autoReadMessages: boolean
  disableHistorySync: boolean
  ignoreStatus: boolean
}

export interface S3Config {
  enabled: boolean
  region: string
  bucket: string
  accessKey: string
  secretKey: string
  endpoint: string
  pathPrefix: string
}

export interface InstanceConfig {
  /** Keyed by label; the list item shows the `default` one. */
  webhooks: Record<string, WebhookConfig>
  websocket: WebsocketConfig
  chatwoot: ChatwootConfig
  proxy: ProxyConfig
  settings: SettingsConfig
  s3: S3Config
}

export const WEBSOCKET_EVENTS = [
  'message.exchange',
  'message.status',
  'call.update',
  'group.flow',
  'instance.state',
  'label.update',
] as const

export const MAX_ENABLED_WEBHOOKS = 3

/**
 * An instance's webhook by label, or undefined. Labels are user keys: never read one through the
 * prototype chain (a label `constructor` must not find Object's).
 */
export function webhookOf(c: Pick<InstanceConfig, 'webhooks'>, label: string): WebhookConfig | undefined {
  return Object.hasOwn(c.webhooks, label) ? c.webhooks[label] : undefined
}

/** Webhooks keyed by label in a null-prototype object, so no label can reach Object.prototype. */
export function webhookMap(from: Record<string, WebhookConfig>): Record<string, WebhookConfig> {
  return Object.assign(Object.create(null) as Record<string, WebhookConfig>, from)
}

export function defaultWebhook(label = 'default'): WebhookConfig {
  return { label, enabled: false, url: '', authorization: '', byEvents: false, events: [], mediaBase64: false, signingSecret: '' }
}

export function defaultConfig(): InstanceConfig {
  return {
    webhooks: webhookMap({}),
    websocket: { configured: false, enabled: false, events: [], mediaBase64: false },
    chatwoot: {
      enabled: false,
      status: '',
      bridgeIntegrationId: null,
      baseUrl: '',
      accountId: null,
      inboxName: '',
      apiToken: '',
      signMessages: false,
      ignoreGroups: false,
      startAsPending: false,
      reopenResolved: false,
    },
    proxy: { enabled: false, host: '', port: '', protocol: 'http', username: '', password: '' },
    settings: {
      autoRejectCalls: false,
      callRejectMessage: '',
      ignoreGroupMessages: false,
      keepOnlineStatus: false,
      autoReadMessages: false,
      disableHistorySync: true,
      ignoreStatus: false,
    },
    s3: { enabled: false, region: '', bucket: '', accessKey: '', secretKey: '', endpoint: '', pathPrefix: '' },
  }
}

export function webhookSummary(w: WebhookConfig) {
  return {
    label: w.label,
    enabled: w.enabled,
    url: w.url,
    byEvents: w.byEvents,
    events: w.events,
    mediaBase64: w.mediaBase64,
    hasAuthorization: w.authorization !== '',
  }
}

export function websocketSummary(w: WebsocketConfig) {
  return { enabled: w.enabled, events: w.events, mediaBase64: w.mediaBase64 }
}

export function chatwootSummary(c: ChatwootConfig) {
  return { ...c }
}

export function proxySummary(p: ProxyConfig) {
  return {
    enabled: p.enabled,
    host: p.host,
    port: p.port,
    protocol: p.protocol,
    username: p.username,
    hasPassword: p.password !== '',
  }
}

export function settingsSummary(s: SettingsConfig) {
  return { ...s }
}

export function s3Summary(s: S3Config) {
  return {
    enabled: s.enabled,
    region: s.region,
    bucket: s.bucket,
    accessKey: s.accessKey,
    secretKey: null,
    endpoint: s.endpoint,
    pathPrefix: s.pathPrefix,
  }
}
