/**
 * @module Configuration from environment variables, validated with zod at start. Each setting is
 * declared once, here, with its variable; the rest of the hub takes the typed result (layers
 * declare the part they need as an interface, which HubConfig satisfies as it is). A bad value
 * stops the hub with a message naming the variable. Nothing is parsed at import time.
 */
import { z } from 'zod'
import { parseSecretKey } from '../adapters/crypto/secret-box.js'

const int = (def: number, min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def)
const bool = (def: boolean) =>
  z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true')

/**
 * A comma-separated list of browser origins (`https://app.example.com`, `http://localhost:5173`),
 * each exactly as a browser sends it in `Origin`: scheme, host and a non-default port, nothing else.
 */
const origins = z
  .string()
  .default('')
  .transform((raw, ctx): readonly string[] => {
    const list = raw
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== '')
    for (const o of list) {
      let origin: string | null = null
      try {
        origin = new URL(o).origin
      } catch {}
      if (!/^https?:\/\//.test(o)) ctx.addIssue({ code: 'custom', message: `"${o}" is not an origin: it must start with http:// or https://` })
      else if (origin !== o) {
        const hint = origin === null ? '' : `, e.g. ${origin}`
        ctx.addIssue({ code: 'custom', message: `"${o}" is not an origin: write scheme://host[:port] in lower case, no path, no trailing slash, no default port${hint}` })
      }
    }
    return Object.freeze([...new Set(list)])
  })

/** `worker,edge` (default), `worker` or `edge`, in any order. */
const roles = z
  .string()
  .default('worker,edge')
  .transform((raw, ctx): readonly ('worker' | 'edge')[] => {
    const list = [...new Set(raw.split(',').map((r) => r.trim()))]
    for (const r of list) if (r !== 'worker' && r !== 'edge') ctx.addIssue({ code: 'custom', message: `unknown role "${r}": roles are worker and edge` })
    if (list.length === 0 || (list.length === 1 && list[0] === '')) ctx.addIssue({ code: 'custom', message: 'name at least one role: worker, edge' })
    return Object.freeze(list.filter((r): r is 'worker' | 'edge' => r === 'worker' || r === 'edge').sort().reverse())
  })

const FIELDS = {
  port: ['HUB_PORT', int(8080, 0, 65535)],
  host: ['HUB_HOST', z.string().min(1).default('0.0.0.0')],
  dataDir: ['HUB_DATA_DIR', z.string().min(1).default('./data')],
  adminToken: ['HUB_ADMIN_TOKEN', z.string().min(16, 'must be at least 16 characters').optional()],
  /**
   * The key that seals secrets at rest (Baileys sessions, webhook authorization values). Unset:
   * generated on first start into `secret.key` beside the database.
   */
  secretKey: ['HUB_SECRET_KEY', z.string().refine((v) => parseSecretKey(v) !== null, 'must be 32 bytes, as 64 hex characters or base64').optional()],
  rateLimitPerMin: ['HUB_RATE_LIMIT_PER_MIN', int(100, 1)],
  createRateLimitPerMin: ['HUB_CREATE_RATE_LIMIT_PER_MIN', int(20, 1)],
  /** Requests without a valid token, per client address. */
  unauthRateLimitPerMin: ['HUB_UNAUTH_RATE_LIMIT_PER_MIN', int(60, 1)],
  whatsapp: ['HUB_WHATSAPP', z.enum(['baileys', 'simulated']).default('baileys')],
  logLevel: ['HUB_LOG_LEVEL', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')],
  /** Byte bound of the rendered-list cache. */
  listCacheBytes: ['HUB_LIST_CACHE_BYTES', int(64 * 1024 * 1024, 1024)],
  /** Longest wait between a status change and its SQLite transaction. */
  persistIntervalMs: ['HUB_PERSIST_INTERVAL_MS', int(5, 0, 10_000)],
  /** Recent changes kept in memory per account for resume. */
  ringSize: ['HUB_STREAM_RING_SIZE', int(10_000, 1)],
  /** Changes kept in the SQLite change log per account, and their maximum age. */
  changeLogMax: ['HUB_CHANGELOG_MAX', int(100_000, 1)],
  changeLogMaxAgeS: ['HUB_CHANGELOG_MAX_AGE_S', int(24 * 3600, 1)],
  /** WebSocket idle timeout: pings go out before it, a peer silent past it is closed. */
  wsIdleTimeoutS: ['HUB_WS_IDLE_TIMEOUT_S', int(60, 8, 960)],
  wsMaxFrameBytes: ['HUB_WS_MAX_FRAME_BYTES', int(16 * 1024, 256, 16 * 1024 * 1024)],
  /** Outgoing buffer bound per socket; ordered subscribers past it are closed with 4008. */
  wsMaxBufferBytes: ['HUB_WS_MAX_BUFFER_BYTES', int(1024 * 1024, 1024)],
  wsMaxSubscriptions: ['HUB_WS_MAX_SUBSCRIPTIONS', int(100, 1)],
  wsMaxFramesPerSec: ['HUB_WS_MAX_FRAMES_PER_SEC', int(50, 1)],
  /** A resume further back than this many changes is answered with a snapshot. */
  streamMaxReplay: ['HUB_STREAM_MAX_REPLAY', int(10_000, 0)],
  /** Bytes of one socket's answer (a snapshot) not yet sent; past it the socket is closed 4008. */
  wsMaxPendingBytes: ['HUB_WS_MAX_PENDING_BYTES', int(64 * 1024 * 1024, 64 * 1024)],
  /** Bytes of every socket's answers not yet sent; past it a new answer is refused with 4029. */
  wsMaxPendingTotalBytes: ['HUB_WS_MAX_PENDING_TOTAL_BYTES', int(512 * 1024 * 1024, 64 * 1024)],
  /** Per account per second: bytes of snapshots sent (WebSocket and SSE), replays that read the change log, bytes of lists rendered. */
  accountSnapshotBytesPerSec: ['HUB_ACCOUNT_SNAPSHOT_BYTES_PER_SEC', int(64 * 1024 * 1024, 1024)],
  accountDeepResumesPerSec: ['HUB_ACCOUNT_DEEP_RESUMES_PER_SEC', int(10, 1)],
  accountRenderBytesPerSec: ['HUB_ACCOUNT_RENDER_BYTES_PER_SEC', int(64 * 1024 * 1024, 1024)],
  /** Browser origins allowed cross-origin access (CORS) and WebSocket upgrades; empty: none. */
  corsOrigins: ['HUB_CORS_ORIGINS', origins],
  /** How long `GET /api/instance/connect` waits for a QR, a pairing code or the open. */
  connectWaitMs: ['HUB_CONNECT_TIMEOUT_MS', int(60_000, 100)],
  /** How long a webhook delivery is retried before it is dead-lettered. */
  webhookMaxAgeS: ['HUB_WEBHOOK_MAX_AGE_S', int(24 * 3600, 1)],
  /** One delivery attempt, from connecting to the end of the response. */
  webhookTimeoutMs: ['HUB_WEBHOOK_TIMEOUT_MS', int(10_000, 10, 600_000)],
  /** Pending deliveries kept per webhook (past it the oldest are dead-lettered); also the dead letters kept. */
  webhookMaxPending: ['HUB_WEBHOOK_MAX_PENDING', int(10_000, 1)],
  /** Deliver to loopback, private, link-local and unique-local addresses (tests, private networks). */
  webhookAllowPrivate: ['HUB_WEBHOOK_ALLOW_PRIVATE', bool(false)],
  /** Deliveries in flight at once, across every webhook (each webhook has one at most). */
  webhookConcurrency: ['HUB_WEBHOOK_CONCURRENCY', int(16, 1, 1024)],
  /** The first retry's delay; each next one doubles, with jitter, up to the max. */
  webhookRetryBaseMs: ['HUB_WEBHOOK_RETRY_BASE_MS', int(1000, 1)],
  webhookRetryMaxMs: ['HUB_WEBHOOK_RETRY_MAX_MS', int(3600_000, 1)],
  /** An open WhatsApp socket from which nothing arrived this long is restarted (above Baileys' 30 s keep-alive). */
  silentAfterMs: ['HUB_SILENT_AFTER_MS', int(120_000, 1_000)],
  /** Connection history rows are kept at least this many days. */
  historyDays: ['HUB_HISTORY_DAYS', int(7, 7, 3650)],
  /** The Bearer token `GET /metrics` takes when set; unset, it takes the admin token. */
  metricsToken: ['HUB_METRICS_TOKEN', z.string().min(16, 'must be at least 16 characters').optional()],
  /** Per-account series on `/metrics`, labelled with account names (their count is the number of accounts). */
  metricsPerAccount: ['HUB_METRICS_PER_ACCOUNT', bool(false)],
  /** Cluster mode when set: the NATS server(s), comma-separated. */
  natsUrl: ['HUB_NATS_URL', z.string().regex(/^nats:\/\/[^\s,]+(,\s*nats:\/\/[^\s,]+)*$/, 'must be nats://host:port, or a comma-separated list of them').optional()],
  /** Unique per node; default hostname:port. Letters, digits, `-`, `_`, `.`, `:`. */
  nodeId: ['HUB_NODE_ID', z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'must be 1–64 letters, digits, -, _, . or :, starting with a letter or digit').optional()],
  roles: ['HUB_ROLES', roles],
  /** Socket and writer leases expire this long after their last renewal. */
  leaseTtlMs: ['HUB_LEASE_TTL_MS', int(15_000, 3_000, 600_000)],
} as const satisfies Record<string, readonly [`HUB_${string}`, z.ZodType]>

type Fields = typeof FIELDS

export type HubConfig = { readonly [K in keyof Fields]: z.output<Fields[K][1]> }

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Variables whose values are never echoed in an error. */
const SECRET_VARIABLES = new Set(['HUB_ADMIN_TOKEN', 'HUB_SECRET_KEY', 'HUB_METRICS_TOKEN'])

const schema = z.object(Object.fromEntries(Object.values(FIELDS).map(([env, type]) => [env, type])))

/** Empty variables count as unset. */
export function loadConfig(env: Record<string, string | undefined> = process.env): HubConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('HUB_') && v !== ''))
  const parsed = schema.safeParse(present)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0])
      const value = present[name] ?? ''
      return `${name}: ${i.message} (got ${SECRET_VARIABLES.has(name) ? `${value.length} characters` : JSON.stringify(value)})`
    })
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`)
  }
  const values = parsed.data as Record<string, unknown>
  return Object.freeze(Object.fromEntries(Object.entries(FIELDS).map(([key, [env]]) => [key, values[env]]))) as HubConfig
}
