/**
 * @module The composition root of the embedded hub: config → database → hub → WhatsApp source →
 * the list of edges. `npm start`, the demo, the CLI, the tests and the benchmarks' hub process all
 * build the hub here, so they run the same wiring. To add an edge, implement ports/edge.ts and add
 * it to `edges`; a cluster node's edges are listed in app/cluster.ts, which needs it too if the
 * edge must run on cluster nodes.
 */
import { rmSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { latestVersion } from '../adapters/baileys/version.js'
import { MemoryBus } from '../adapters/memory/bus.js'
import { openDb, type OpenedDb } from '../adapters/sqlite/db.js'
import { SqliteOutbox } from '../adapters/sqlite/outbox-store.js'
import { SqliteHistoryStore } from '../adapters/sqlite/history-store.js'
import { WrongSecretKey } from '../adapters/sqlite/secrets.js'
import { SqliteStore } from '../adapters/sqlite/store.js'
import { clusterEdge } from '../edges/cluster.js'
import { dashboardEdge, DASHBOARD_DIR } from '../edges/dashboard.js'
import { historyEdge, type HistoryEdge } from '../edges/history/index.js'
import { createHttpServer, type HttpServer } from '../edges/http/server.js'
import { metricsEdge } from '../edges/metrics/index.js'
import { streamEdge, type StreamEdge } from '../edges/stream/index.js'
import { newSigningSecret } from '../edges/webhooks/signing.js'
import { webhookEdge, type WebhookEdge } from '../edges/webhooks/index.js'
import { LocalCommands } from '../hub/commands.js'
import { Hub, type FirstStart } from '../hub/hub.js'
import type { ChangeBus } from '../ports/bus.js'
import { systemClock, type Clock } from '../ports/clock.js'
import type { Edge } from '../ports/edge.js'
import type { WhatsAppControl } from '../ports/whatsapp.js'
import type { WhatsAppSupervisor } from '../sources/whatsapp/supervisor.js'
import type { HubConfig } from './config.js'
import { acquireLock } from './data-lock.js'
import { loadSecretKey } from './secret-key.js'
import { createWhatsApp, type WhatsAppDeps } from './whatsapp.js'

export interface ComposeOptions {
  log: Logger
  clock?: Clock
  /** The WhatsApp source in the configured mode, with these overrides; null runs the hub without one. */
  whatsapp: Partial<WhatsAppDeps> | null
  /** Where the dashboard's built files are (default dist/dashboard); null serves no dashboard. */
  dashboardDir?: string | null
}

export interface RunningHub {
  hub: Hub
  bus: ChangeBus
  http: HttpServer
  streams: StreamEdge
  webhooks: WebhookEdge
  history: HistoryEdge
  /** Started in this order, stopped in reverse. */
  edges: readonly Edge[]
  port: number
  wa: WhatsAppSupervisor | null
  first: FirstStart
  /** Stops accepting, ends the sockets, flushes the snapshot, closes the database. Idempotent. */
  stop(): Promise<void>
}

export function dbPath(dataDir: string): string {
  return join(dataDir, 'statushub.db')
}

export interface OpenHub {
  hub: Hub
  db: OpenedDb
  bus: ChangeBus
  first: FirstStart
  /** Flushes the hub, closes the database, releases the data directory. */
  close(): void
}

/**
 * The hub alone on its locked database: what the CLI works on, and what startHub builds on.
 * `longLived` moves WAL checkpoints to a worker thread (a running hub; not a one-shot command).
 * Secrets at rest are sealed with the key from loadSecretKey (`db.box`).
 */
export function openHub(cfg: HubConfig, log: Logger, clock: Clock = systemClock, longLived = true): OpenHub {
  const release = acquireLock(cfg.dataDir)
  let db: OpenedDb
  try {
    const key = loadSecretKey(cfg)
    if (key.generated) log.info({ file: key.source }, 'secret key generated: keep this file with every backup of the database')
    try {
      db = openDb(dbPath(cfg.dataDir), { box: key.box, ...(longLived ? { backgroundCheckpointMs: 1000 } : {}) })
    } catch (err) {
      if (!(err instanceof WrongSecretKey)) throw err
      const fix = 'Set HUB_SECRET_KEY to the key they were written with (or put back the secret.key that came with the database).'
      if (!key.generated) throw new Error(`${key.source} does not open the secrets in ${dbPath(cfg.dataDir)}: they were sealed with another key. ${fix}`)
      // A key made just now for a database sealed with another one would only mislead the next start.
      rmSync(key.source, { force: true })
      throw new Error(`${dbPath(cfg.dataDir)} holds secrets sealed with a key that is not here: HUB_SECRET_KEY is unset and there was no ${key.source}. ${fix}`)
    }
    if (db.sealedAtOpen > 0) log.info({ values: db.sealedAtOpen }, 'plaintext secrets from before encryption are now sealed')
  } catch (err) {
    release()
    throw err
  }
  const bus = new MemoryBus(log)
  const hub = new Hub(new SqliteStore(db), bus, cfg, clock, log)
  const first = hub.start()
  return {
    hub,
    db,
    bus,
    first,
    close() {
      hub.stop()
      db.close()
      release()
    },
  }
}

export async function startHub(cfg: HubConfig, opts: ComposeOptions): Promise<RunningHub> {
  const clock = opts.clock ?? systemClock
  const log = opts.log
  const opened = openHub(cfg, log, clock)
  const { hub, bus, first } = opened
  const wa = opts.whatsapp === null ? null : whatsAppFor(cfg, hub, opened.db, log, opts.whatsapp)

  const commands = new LocalCommands(hub, newSigningSecret)
  const http = createHttpServer({ hub, commands, wa, clock, log, cfg })
  const streams = streamEdge(http, hub, bus, cfg, clock, log)
  const webhooks = webhookEdge({ hub, writeBehind: hub, outbox: new SqliteOutbox(opened.db), bus, router: http.router, cfg, clock, log })
  const history = historyEdge({ hub, bus, store: new SqliteHistoryStore(opened.db), wa, router: http.router, clock, log, cfg })
  const nodeId = cfg.nodeId ?? `${hostname()}:${cfg.port}`
  // The embedded hub is a cluster of one node: ready once it serves, writing every account.
  const view = clusterEdge(http.router, {
    notReady: () => null,
    info: async () => ({
      epoch: hub.epoch,
      nodes: [{ id: nodeId, roles: ['worker', 'edge'] as const, instances: wa?.driven().length ?? 0, accounts: hub.accounts().length, webhooks: hub.accounts().length, lastSeenAt: new Date(clock.now()).toISOString() }],
    }),
  })
  const edges: Edge[] = [streams, webhooks, history, view]
  if (opts.dashboardDir !== null) edges.push(dashboardEdge(http.router, log, opts.dashboardDir ?? DASHBOARD_DIR))
  edges.push(metricsEdge({ router: http.router, hub, bus, cfg, sources: [...edges, http] }))
  // Last: it serves once every route is mounted, and stops first.
  edges.push(http)

  // Settings and state are read as the supervisor needs them: an instance nobody uses is not read in full at start.
  wa?.restore(
    hub
      .accounts()
      .flatMap((a) => a.ids)
      .map((id) => ({
        id,
        name: hub.instance(id)!.name,
        get settings() {
          return hub.instance(id)!.config.settings
        },
        get proxy() {
          return hub.instance(id)!.config.proxy
        },
        state: hub.stateOf(id)!,
      })),
  )

  const started: Edge[] = []
  const stopEdge = async (edge: Edge) => {
    try {
      await edge.stop()
    } catch (err) {
      log.error({ err, edge: edge.name }, 'edge stop failed')
    }
  }
  let stopping: Promise<void> | null = null
  const stop = () =>
    (stopping ??= (async () => {
      const order = started.reverse()
      // Nothing new arrives while the source and the other edges shut down.
      if (order[0] === http) await stopEdge(order.shift()!)
      if (wa !== null) await wa.shutdown().catch((err) => log.error({ err }, 'whatsapp shutdown failed'))
      for (const edge of order) await stopEdge(edge)
      http.closeConnections()
      opened.close()
    })())
  try {
    for (const edge of edges) {
      await edge.start?.()
      started.push(edge)
    }
  } catch (err) {
    await stop()
    // The first start's tokens are already stored as hashes: this is the only chance to show them.
    throw new StartError(err instanceof Error ? err.message : String(err), first)
  }
  return { hub, bus, http, streams, webhooks, history, edges, port: http.port, wa, first, stop }
}

function whatsAppFor(cfg: HubConfig, hub: Hub, db: OpenedDb, log: Logger, extra: Partial<WhatsAppDeps>): WhatsAppSupervisor {
  const waLog = log.child({ mod: 'whatsapp' })
  // Only real sockets need the version WhatsApp Web currently serves.
  const versions = cfg.whatsapp === 'baileys' ? { versions: latestVersion({ log: waLog }) } : {}
  const options = { silentAfterMs: cfg.silentAfterMs, ...extra.options }
  return createWhatsApp(cfg.whatsapp, { writer: hub, db: db.db, box: db.box, log: waLog, ...versions, ...extra, options })
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

export type { WhatsAppControl }
