/**
 * @module Composition root: config → database → hub → WhatsApp → server. `main.ts`, the demo,
 * the tests and the benchmarks all start the hub through here, so they run the same wiring.
 */
import { join } from 'node:path'
import type { Logger } from 'pino'
import { openDb } from './adapters/sqlite/db.js'
import { SqliteStore } from './adapters/sqlite/store.js'
import { createServer, type Server } from './adapters/uws/app.js'
import type { HubConfig } from './config.js'
import { systemClock, type Clock, type WhatsAppControl } from './core/ports.js'
import { acquireLock } from './data-lock.js'
import { Hub, type FirstStart } from './hub/hub.js'

export interface RunningHub {
  hub: Hub
  server: Server
  port: number
  wa: WhatsAppControl | null
  first: FirstStart
  /** Stops accepting, ends sockets, flushes the snapshot, closes the database. Idempotent. */
  stop(): Promise<void>
}

export interface StartOptions {
  log: Logger
  clock?: Clock
  /** Builds the WhatsApp layer once the hub exists; null runs the hub without one. */
  whatsapp?: ((hub: Hub, db: ReturnType<typeof openDb>) => WhatsAppControl) | null
  /** Extra edges (streams, dashboard) mounted on the same server. */
  mount?: (s: Server, hub: Hub, wa: WhatsAppControl | null) => { close(): void } | void
}

export function dbPath(dataDir: string): string {
  return join(dataDir, 'statushub.db')
}

export async function startHub(cfg: HubConfig, opts: StartOptions): Promise<RunningHub> {
  const clock = opts.clock ?? systemClock
  const release = acquireLock(cfg.dataDir)
  const db = openDb(dbPath(cfg.dataDir), { backgroundCheckpointMs: 1000 })
  const hub = new Hub(
    new SqliteStore(db),
    {
      listCacheBytes: cfg.listCacheBytes,
      persistIntervalMs: cfg.persistIntervalMs,
      ringSize: cfg.ringSize,
      changeLogMax: cfg.changeLogMax,
      changeLogMaxAgeS: cfg.changeLogMaxAgeS,
      adminToken: cfg.adminToken,
    },
    clock,
    opts.log,
  )
  const first = hub.start()
  const wa = opts.whatsapp ? opts.whatsapp(hub, db) : null
  let edges: { close(): void } | void = undefined
  const server = createServer(
    {
      hub,
      wa,
      clock,
      log: opts.log,
      limits: {
        rateLimitPerMin: cfg.rateLimitPerMin,
        createRateLimitPerMin: cfg.createRateLimitPerMin,
        unauthRateLimitPerMin: cfg.unauthRateLimitPerMin,
      },
      connectTimeoutMs: cfg.connectTimeoutMs,
    },
    (s) => {
      edges = opts.mount?.(s, hub, wa)
    },
  )
  let stopping: Promise<void> | null = null
  const stop = () => {
    stopping ??= (async () => {
      server.close()
      if (wa !== null) await wa.shutdown().catch((err) => opts.log.error({ err }, 'whatsapp shutdown failed'))
      edges?.close()
      hub.stop()
      db.close()
      release()
    })()
    return stopping
  }
  let port: number
  try {
    port = await server.listen(cfg.host, cfg.port)
  } catch (err) {
    await stop()
    // The first start's tokens are already stored as hashes: this is the only chance to show them.
    throw new StartError(err instanceof Error ? err.message : String(err), first)
  }
  return { hub, server, port, wa, first, stop }
}

/** The hub could not start serving; it stopped cleanly, and `first` holds any tokens it created. */
export class StartError extends Error {
  constructor(
    message: string,
    readonly first: FirstStart,
  ) {
    super(message)
  }
}
