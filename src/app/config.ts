/**
 * @module Configuration from environment variables, validated with zod at start. Each setting is
 * declared once, here, with its variable; the rest of the hub takes the typed result (layers
 * declare the part they need as an interface, which HubConfig satisfies as it is). A bad value
 * stops the hub with a message naming the variable. Nothing is parsed at import time.
 */
import { z } from 'zod'
import { parseSecretKey } from '../adapters/crypto/secret-box.js'

const int = (def: number, min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def)

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
  /** How long `GET /api/instance/connect` waits for a QR, a pairing code or the open. */
  connectWaitMs: ['HUB_CONNECT_TIMEOUT_MS', int(60_000, 100)],
} as const satisfies Record<string, readonly [`HUB_${string}`, z.ZodType]>

type Fields = typeof FIELDS

export type HubConfig = { readonly [K in keyof Fields]: z.output<Fields[K][1]> }

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Variables whose values are never echoed in an error. */
const SECRET_VARIABLES = new Set(['HUB_ADMIN_TOKEN', 'HUB_SECRET_KEY'])

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
