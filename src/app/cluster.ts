/**
 * @module The composition root of a cluster node (HUB_NATS_URL set; the cluster contract is
 * ../shared/spec/cluster.md, outside this repository): the engine, the node's hub over an
 * in-memory store filled from the engine, the follower that keeps it current, the leases, the
 * account writers, the routed commands and sockets, and the same edges as the embedded hub
 * (lists, WebSocket, SSE, /ws/:instance, history, webhooks, metrics, the dashboard) reading this
 * node's hub. Each account's webhooks are delivered by its writer (edges/webhooks/cluster.ts).
 */
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { baileysLogger } from '../adapters/baileys/logger.js'
import { latestVersion } from '../adapters/baileys/version.js'
import { AesGcmBox, parseSecretKey } from '../adapters/crypto/secret-box.js'
import { MemoryBus } from '../adapters/memory/bus.js'
import { MemoryOutbox } from '../adapters/memory/outbox-store.js'
import { MemoryStore } from '../adapters/memory/store.js'
import { openEngine, type Engine } from '../adapters/nats/engine.js'
import { KvSimWorld } from '../adapters/nats/sim-world.js'
import { conflictMarginMs } from '../adapters/simulated/world.js'
import { EngineHistoryStore } from '../adapters/nats/history-store.js'
import { KvSessionStore } from '../adapters/nats/session-store.js'
import { KvWebhookLedger } from '../adapters/nats/webhook-ledger.js'
import { FollowerFeed } from '../cluster/change-feed.js'
import { ClusterCommands } from '../cluster/commands.js'
import { epochOf } from '../cluster/epoch.js'
import { Follower } from '../cluster/follower.js'
import { K } from '../cluster/keys.js'
import { isWrongSequence, Leases } from '../cluster/leases.js'
import { NodeDirectory } from '../cluster/nodes.js'
import { Rpc } from '../cluster/rpc.js'
import { ClusterSockets } from '../cluster/sockets.js'
import { ClusterStatusWriter } from '../cluster/status-writer.js'
import { Writers } from '../cluster/writer.js'
import { LeaseWriterships } from '../cluster/writerships.js'
import { clusterEdge } from '../edges/cluster.js'
import { dashboardEdge, DASHBOARD_DIR } from '../edges/dashboard.js'
import { historyEdge } from '../edges/history/index.js'
import { metricsEdge } from '../edges/metrics/index.js'
import { createHttpServer, type HttpServer } from '../edges/http/server.js'
import { streamEdge, type StreamEdge } from '../edges/stream/index.js'
import { clusterWebhookEdge } from '../edges/webhooks/cluster.js'
import { newSigningSecret } from '../edges/webhooks/signing.js'
import { Hub, type FirstStart } from '../hub/hub.js'
import { hashToken, newToken } from '../hub/tokens.js'
import { systemClock } from '../ports/clock.js'
import type { Edge } from '../ports/edge.js'
import type { WhatsAppSupervisor } from '../sources/whatsapp/supervisor.js'
import type { ComposeOptions } from './compose.js'
import type { HubConfig } from './config.js'
import { createWhatsApp } from './whatsapp.js'

export interface RunningNode {
  nodeId: string
  hub: Hub
  http: HttpServer
  streams: StreamEdge
  engine: Engine
  /** This node's supervisor (workers only). */
  wa: WhatsAppSupervisor | null
  sockets: ClusterSockets
  leases: Leases
  port: number
  first: FirstStart
  /** Hands the leases over (sockets reconnect elsewhere at once), then stops. Idempotent. */
  stop(): Promise<void>
  /** Resolves when the node stopped because it lost step with the cluster (the caller starts it again). */
  readonly lost: Promise<string>
}

export class ClusterConfigError extends Error {
  override name = 'ClusterConfigError'
}

export async function startClusterNode(cfg: HubConfig, opts: ComposeOptions): Promise<RunningNode> {
  const clock = opts.clock ?? systemClock
  const log = opts.log.child({ node: cfg.nodeId ?? `${hostname()}:${cfg.port}` })
  if (cfg.natsUrl === undefined) throw new ClusterConfigError('cluster mode needs HUB_NATS_URL')
  const key = cfg.secretKey === undefined ? null : parseSecretKey(cfg.secretKey)
  if (key === null) throw new ClusterConfigError('cluster mode needs HUB_SECRET_KEY (the same on every node: sessions and secrets in the engine are sealed with it)')
  const box = new AesGcmBox(key)
  const nodeId = cfg.nodeId ?? `${hostname()}:${cfg.port}`
  const inc = randomUUID()
  const roles = cfg.roles
  const worker = roles.includes('worker')
  const ttl = cfg.leaseTtlMs

  const engine = await openEngine({ url: cfg.natsUrl, nodeId, leaseTtlMs: ttl, secretKey: key, maxReplay: cfg.changeLogMax, log })
  const cleanup: (() => Promise<void> | void)[] = [() => engine.close()]
  const undo = async () => {
    for (const fn of cleanup.reverse()) await Promise.resolve(fn()).catch((err) => log.error({ err }, 'cluster node cleanup failed'))
  }
  try {
    const first: FirstStart = { adminToken: null, defaultAccountToken: null }
    if (cfg.adminToken === undefined) first.adminToken = await claim(engine, K.admin, () => newToken(), hashToken)

    let resolveLost!: (why: string) => void
    const lost = new Promise<string>((r) => (resolveLost = r))
    const follower = new Follower(engine, box, log, (why) => resolveLost(why))
    const boot = await follower.bootstrap()
    const bus = new MemoryBus(log)
    const hub = new Hub(new MemoryStore(boot.preload), bus, cfg, clock, log)
    hub.start()
    cleanup.push(() => follower.stop())

    const leases = new Leases(engine.leases, { node: nodeId, inc }, ttl, clock, log)
    leases.start()
    cleanup.push(() => leases.stop())
    const writers = new Writers(engine, hub, follower, leases, box, log, ttl + 10_000)
    const rpc = new Rpc(engine, log)
    let deliveringFor = () => 0
    const nodes = new NodeDirectory(engine, { id: nodeId, inc, roles }, () => ({ instances: leases.count('s.'), accounts: leases.count('w.'), webhooks: deliveringFor() }), clock, log)
    const commands = new ClusterCommands({ engine, hub, writers, follower, leases, rpc, nodes, worker, freshSecret: newSigningSecret, clock, log, leaseTtlMs: ttl })

    // The default account, once for the whole cluster.
    if ((await claim(engine, K.defaultAccount, () => '1', (v) => v)) !== null) first.defaultAccountToken = (await commands.createAccount('default', 100)).token

    // The simulated WhatsApp is one world for the whole cluster, as the real one is.
    let world: KvSimWorld | null = null
    if (cfg.whatsapp === 'simulated') {
      const w = new KvSimWorld(engine.nc, { node: nodeId, marginMs: conflictMarginMs(ttl), now: () => clock.now(), log })
      await w.start()
      cleanup.push(() => w.stop())
      world = w
    }
    let sessions: KvSessionStore | null = null
    let wa: WhatsAppSupervisor | null = null
    const statusWriter = new ClusterStatusWriter(hub, commands, leases, log)
    if (worker && opts.whatsapp !== null) {
      const logger = opts.whatsapp.baileysLogger ?? baileysLogger()
      sessions = new KvSessionStore(engine.nc, box, { logger, log, now: () => clock.now() })
      await sessions.start()
      const s = sessions
      cleanup.push(() => s.close())
      const waLog = log.child({ mod: 'whatsapp' })
      const versions = cfg.whatsapp === 'baileys' ? { versions: latestVersion({ log: waLog }) } : {}
      wa = createWhatsApp(cfg.whatsapp, { writer: statusWriter, sessions, log: waLog, ...versions, ...(world ? { world } : {}), ...opts.whatsapp, options: { silentAfterMs: cfg.silentAfterMs, ...opts.whatsapp.options } })
    }
    const sockets = new ClusterSockets({
      engine,
      hub,
      wa,
      sessions,
      leases,
      rpc,
      nodes,
      writeStatus: (id, patch) => statusWriter.updateStatus(id, patch),
      statusWritten: () => statusWriter.idle(),
      clock,
      log,
      leaseTtlMs: ttl,
      scanMs: Math.max(250, Math.min(1000, Math.floor(ttl / 6))),
      simConflicts: world === null ? null : () => world.conflicts(),
    })
    const http = createHttpServer({ hub, commands, wa: sockets, clock, log, cfg })
    // Each account's writer delivers its webhooks; any node's deliveries endpoints ask the writer.
    const webhooks = clusterWebhookEdge({
      hub,
      commands,
      writerships: new LeaseWriterships(leases, writers, worker),
      feed: new FollowerFeed(follower, hub.epoch, cfg.changeLogMax),
      ledgerOf: (accountId) => new KvWebhookLedger(engine.webhooks, accountId, log),
      remote: commands.deliveries,
      outbox: new MemoryOutbox(),
      router: http.router,
      cfg,
      clock,
      log,
      scanMs: Math.max(250, Math.floor(ttl / 4)),
    })
    commands.serveDeliveries(webhooks.here)
    deliveringFor = () => webhooks.stats().delivering

    const streams = streamEdge(http, hub, bus, cfg, clock, log)
    const historyStore = new EngineHistoryStore(engine, () => hub.accounts().flatMap((a) => a.ids), cfg.historyDays * 86_400_000, log)
    await historyStore.load()
    // Subscribed before the hub follows the stream, so no change after the preload goes unrecorded.
    const history = historyEdge({ hub, bus, store: historyStore, wa: sockets, router: http.router, clock, log, cfg, recordsStops: false })
    follower.follow(hub)
    // Rows of changes before the preload that other nodes still held in their short queues.
    const historyCatchUp = setTimeout(() => void historyStore.catchUp().catch((err) => log.warn({ err }, 'history catch-up failed')), cfg.persistIntervalMs + 2000)
    historyCatchUp.unref()
    cleanup.push(() => clearTimeout(historyCatchUp))
    // Answered only once the hub follows the stream: a routed write waits for this node to catch up.
    await rpc.serve({
      write: (a) => commands.runRemote(a as never),
      wa: (a) => sockets.handle(a as never),
      simNetwork: (a) => sockets.simNetwork(a as never),
    })
    cleanup.push(() => rpc.stop())
    const view = clusterEdge(http.router, {
      notReady: () => (engine.connected() ? null : 'This node cannot reach the cluster engine (NATS)'),
      info: async () => ({ epoch: hub.epoch, nodes: (await nodes.list()).map(({ id, roles, instances, accounts, webhooks, lastSeenAt }) => ({ id, roles, instances, accounts, webhooks: webhooks ?? 0, lastSeenAt })) }),
    })
    // A cluster node's edges; the embedded hub's are listed in compose.ts: an edge that runs in
    // both modes is added to both lists.
    const edges: Edge[] = [streams, history, view, webhooks]
    if (opts.dashboardDir !== null) edges.push(dashboardEdge(http.router, log, opts.dashboardDir ?? DASHBOARD_DIR))
    const cluster = { leases: (kind: 'instance' | 'account') => leases.count(kind === 'instance' ? 's.' : 'w.'), engineConnected: () => engine.connected() }
    edges.push(metricsEdge({ router: http.router, hub, bus, cfg, sources: [...edges, http], cluster }))
    edges.push(http)

    const started: Edge[] = []
    for (const edge of edges) {
      await edge.start?.()
      started.push(edge)
    }
    await nodes.start()
    sockets.start()

    // A changed stream (deleted, made again) is a new epoch: checked on every heartbeat.
    const streamCheck = setInterval(() => void follower.checkStream(boot.streamCreated), Math.max(500, Math.floor(ttl / 4)))
    streamCheck.unref()

    let stopping: Promise<void> | null = null
    const stop = () =>
      (stopping ??= (async () => {
        clearInterval(streamCheck)
        const order = started.reverse()
        if (order[0] === http) await order.shift()!.stop()
        await sockets.shutdown().catch((err) => log.error({ err }, 'socket handover failed'))
        statusWriter.stop()
        // The webhook deliveries are handed over with the writer leases: they end first.
        await Promise.resolve(webhooks.stop()).catch((err) => log.error({ err }, 'webhook handover failed'))
        await writers.release().catch((err) => log.error({ err }, 'writer handover failed'))
        await nodes.stop()
        for (const edge of order) await Promise.resolve(edge.stop()).catch((err) => log.error({ err, edge: edge.name }, 'edge stop failed'))
        http.closeConnections()
        await undo()
        hub.stop()
      })())
    log.info({ nodeId, roles, epoch: hub.epoch, streamSeq: boot.streamSeq, epochOfStream: epochOf(boot.streamCreated) }, 'cluster node joined')
    return { nodeId, hub, http, streams, engine, wa, sockets, leases, port: http.port, first, stop, lost }
  } catch (err) {
    await undo()
    throw err
  }
}

/**
 * Creates `key` with `make()`'s value (stored as `store(value)`) unless another node did first;
 * returns the value this node created, or null.
 */
async function claim(engine: Engine, key: string, make: () => string, store: (v: string) => string): Promise<string | null> {
  const value = make()
  try {
    await engine.state.create(key, store(value))
    return value
  } catch (err) {
    if (isWrongSequence(err)) return null
    throw err
  }
}
