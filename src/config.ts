/**
 * @module Configuration from environment variables, validated with zod at start. A bad value
 * stops the hub with a message naming the variable. Nothing is parsed at import time.
 */
import { z } from 'zod'

const int = (def: number, min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def)

const schema = z.object({
  HUB_PORT: int(8080, 0, 65535),
  HUB_HOST: z.string().min(1).default('0.0.0.0'),
  HUB_DATA_DIR: z.string().min(1).default('./data'),
  HUB_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  HUB_RATE_LIMIT_PER_MIN: int(100, 1),
  HUB_CREATE_RATE_LIMIT_PER_MIN: int(20, 1),
  /** Requests without a valid token, per client address. */
  HUB_UNAUTH_RATE_LIMIT_PER_MIN: int(60, 1),
  HUB_WHATSAPP: z.enum(['baileys', 'simulated']).default('baileys'),
  HUB_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Byte bound of the rendered-list cache. */
  HUB_LIST_CACHE_BYTES: int(64 * 1024 * 1024, 1024),
  /** Longest wait between a status change and its SQLite transaction. */
  HUB_PERSIST_INTERVAL_MS: int(5, 0, 10_000),
  /** Recent changes kept in memory per account for resume. */
  HUB_STREAM_RING_SIZE: int(10_000, 1),
  /** Changes kept in the SQLite change log per account, and their maximum age. */
  HUB_CHANGELOG_MAX: int(100_000, 1),
  HUB_CHANGELOG_MAX_AGE_S: int(24 * 3600, 1),
  /** WebSocket idle timeout: pings go out before it, a peer silent past it is closed. */
  HUB_WS_IDLE_TIMEOUT_S: int(60, 8, 960),
  HUB_WS_MAX_FRAME_BYTES: int(16 * 1024, 256, 16 * 1024 * 1024),
  /** Outgoing buffer bound per socket; ordered subscribers past it are closed with 4008. */
  HUB_WS_MAX_BUFFER_BYTES: int(1024 * 1024, 1024),
  HUB_WS_MAX_SUBSCRIPTIONS: int(100, 1),
  HUB_WS_MAX_FRAMES_PER_SEC: int(50, 1),
  HUB_CONNECT_TIMEOUT_MS: int(60_000, 100),
})

export type HubConfig = Readonly<{
  port: number
  host: string
  dataDir: string
  adminToken: string | undefined
  rateLimitPerMin: number
  createRateLimitPerMin: number
  unauthRateLimitPerMin: number
  whatsapp: 'baileys' | 'simulated'
  logLevel: string
  listCacheBytes: number
  persistIntervalMs: number
  ringSize: number
  changeLogMax: number
  changeLogMaxAgeS: number
  wsIdleTimeoutS: number
  wsMaxFrameBytes: number
  wsMaxBufferBytes: number
  wsMaxSubscriptions: number
  wsMaxFramesPerSec: number
  connectTimeoutMs: number
}>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export function loadConfig(env: Record<string, string | undefined> = process.env): HubConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('HUB_') && v !== ''))
  const parsed = schema.safeParse(present)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message} (got ${JSON.stringify(present[String(i.path[0])])})`)
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`)
  }
  const c = parsed.data
  return Object.freeze({
    port: c.HUB_PORT,
    host: c.HUB_HOST,
    dataDir: c.HUB_DATA_DIR,
    adminToken: c.HUB_ADMIN_TOKEN,
    rateLimitPerMin: c.HUB_RATE_LIMIT_PER_MIN,
    createRateLimitPerMin: c.HUB_CREATE_RATE_LIMIT_PER_MIN,
    unauthRateLimitPerMin: c.HUB_UNAUTH_RATE_LIMIT_PER_MIN,
    whatsapp: c.HUB_WHATSAPP,
    logLevel: c.HUB_LOG_LEVEL,
    listCacheBytes: c.HUB_LIST_CACHE_BYTES,
    persistIntervalMs: c.HUB_PERSIST_INTERVAL_MS,
    ringSize: c.HUB_STREAM_RING_SIZE,
    changeLogMax: c.HUB_CHANGELOG_MAX,
    changeLogMaxAgeS: c.HUB_CHANGELOG_MAX_AGE_S,
    wsIdleTimeoutS: c.HUB_WS_IDLE_TIMEOUT_S,
    wsMaxFrameBytes: c.HUB_WS_MAX_FRAME_BYTES,
    wsMaxBufferBytes: c.HUB_WS_MAX_BUFFER_BYTES,
    wsMaxSubscriptions: c.HUB_WS_MAX_SUBSCRIPTIONS,
    wsMaxFramesPerSec: c.HUB_WS_MAX_FRAMES_PER_SEC,
    connectTimeoutMs: c.HUB_CONNECT_TIMEOUT_MS,
  })
}
