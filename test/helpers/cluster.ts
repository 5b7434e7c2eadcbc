/**
 * A cluster on this machine for tests: a real nats-server (random port, temp store) and hub node
 * processes (`src/app/main.ts`, simulated WhatsApp) on 127.0.0.1, each with its own port.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WebSocket } from 'ws'
import { freePort } from '../../src/app/loopback.js'
import { StatusClient, type ClientEvent } from '../../src/client/index.js'
import { ADMIN } from './hub.js'
import { startNatsServer, type NatsServer } from './nats.js'
import { spawnHub, type HubProcess } from './process.js'
import { until } from './wait.js'
import { startReceiver, type Receiver } from '../webhooks/receiver.js'

/** Every node of a test cluster shares it (the contract requires one key cluster-wide). */
export const CLUSTER_KEY = 'a'.repeat(64)

export interface TestCluster {
  nats: NatsServer
  /** The default account's token (printed by the first node). */
  token: string
  nodes: Map<string, HubProcess>
  /** Starts a node named `id` (HUB_NODE_ID) with these extra variables. */
  start(id: string, env?: Record<string, string>): Promise<HubProcess>
  node(id: string): HubProcess
  req(id: string, method: string, path: string, opts?: { token?: string; body?: unknown }): Promise<{ status: number; json: any; headers: Headers }>
  dispose(): Promise<void>
}

/**
 * `nats`: a server the caller started (and disposes of); `token`: an account token the nodes are
 * asked with, for a cluster whose first node creates no default account (an imported one).
 */
export async function startCluster(opts: { ttlMs?: number; env?: Record<string, string>; nats?: NatsServer; token?: string } = {}): Promise<TestCluster> {
  const nats = opts.nats ?? (await startNatsServer())
  const ttl = opts.ttlMs ?? 3000
  const nodes = new Map<string, HubProcess>()
  const ports = new Map<string, number>()
  let token: string | undefined = opts.token
  const cluster: TestCluster = {
    nats,
    get token() {
      return token!
    },
    nodes,
    async start(id, env = {}) {
      const dir = mkdtempSync(join(tmpdir(), `statushub-node-${id}-`))
      // A node keeps its port across an in-process restart (a new epoch) and a process restart.
      const port = ports.get(id) ?? (await freePort())
      ports.set(id, port)
      const p = await spawnHub(
        dir,
        {
          HUB_NATS_URL: nats.url,
          HUB_NODE_ID: id,
          HUB_SECRET_KEY: CLUSTER_KEY,
          HUB_LEASE_TTL_MS: String(ttl),
          HUB_WHATSAPP: 'simulated',
          HUB_LOG_LEVEL: 'info',
          HUB_PORT: String(port),
          ...opts.env,
          ...env,
        },
        token,
      )
      token ??= p.token
      nodes.set(id, p)
      return p
    },
    node(id) {
      const p = nodes.get(id)
      if (p === undefined) throw new Error(`no node ${id}`)
      return p
    },
    async req(id, method, path, o = {}) {
      const p = cluster.node(id)
      const res = await fetch(`${p.base}${path}`, {
        method,
        headers: { token: o.token ?? token!, ...(o.body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
      })
      const text = await res.text()
      let json: any = null
      try {
        json = JSON.parse(text)
      } catch {}
      return { status: res.status, json, headers: res.headers }
    },
    async dispose() {
      await Promise.allSettled([...nodes.values()].map((n) => (n.child.exitCode === null ? n.kill9() : undefined)))
      if (opts.nats === undefined) await nats.dispose()
    },
  }
  return cluster
}

/** What the webhook tests run nodes with: the receiver is on 127.0.0.1, and retries come fast. */
export const WEBHOOK_ENV = { HUB_WEBHOOK_ALLOW_PRIVATE: 'true', HUB_WEBHOOK_RETRY_BASE_MS: '20', HUB_WEBHOOK_RETRY_MAX_MS: '200' }

/** A receiver on 127.0.0.1 and a cluster of these nodes (ready) that may deliver to it. */
export async function startWebhookCluster(ids: readonly string[], env: Record<string, string> = {}): Promise<{ c: TestCluster; rx: Receiver }> {
  const rx = await startReceiver()
  const c = await startCluster({ env: { ...WEBHOOK_ENV, ...env } })
  await startNodes(c, ids)
  return { c, rx }
}

/** Starts these nodes one after another, then waits until each is ready. */
export async function startNodes(c: TestCluster, ids: readonly string[]): Promise<void> {
  for (const id of ids) await c.start(id)
  for (const id of ids) await ready(c, id)
}

/** Waits until `id` answers /readyz with 200. */
export async function ready(c: TestCluster, id: string): Promise<void> {
  const status = () => fetch(`${c.node(id).base}/readyz`).then((r) => r.status, () => 0)
  await until(async () => (await status()) === 200, { what: `${id} ready`, ms: 20_000, detail: () => c.node(id).out().slice(-3000) })
}

export { ADMIN }

/** A StatusClient on one node that records every seq it saw (to prove none was skipped or reused). */
export interface WatchedClient {
  client: StatusClient
  /** Every diff/added/removed seq, in arrival order, per epoch. */
  seqs: number[]
  events: ClientEvent[]
  stop(): void
}

/** `token`: an account's token other than the default account's. */
export function watch(c: TestCluster, id: string, token = c.token): WatchedClient {
  const seqs: number[] = []
  const events: ClientEvent[] = []
  const client = new StatusClient({
    url: `ws://127.0.0.1:${c.node(id).port}/ws`,
    token,
    WebSocket: WebSocket as never,
    onEvent: (e) => {
      events.push(e)
      if (e.type === 'snapshot') seqs.length = 0
      if (e.type === 'diff' || e.type === 'added' || e.type === 'removed') seqs.push(e.seq)
    },
  })
  client.start()
  return { client, seqs, events, stop: () => client.stop() }
}

/** Whether `seqs` climb by exactly one each (no seq skipped, none seen twice). */
export function contiguous(seqs: readonly number[]): boolean {
  return seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1)
}

/** The mirror as the list shows it: name → item. */
export function mirrorOf(w: WatchedClient): Record<string, unknown> {
  return Object.fromEntries([...w.client.mirror].sort(([a], [b]) => a.localeCompare(b)))
}

export async function listOf(c: TestCluster, id: string): Promise<Record<string, unknown>> {
  const r = await c.req(id, 'GET', '/api/instance/list')
  return Object.fromEntries((r.json.instances as { name: string }[]).map((i) => [i.name, i] as const).sort(([a], [b]) => a.localeCompare(b)))
}

/** The instance's `connection.state` as node `id` lists it (undefined when it does not). */
export async function stateOn(c: TestCluster, id: string, name: string): Promise<string | undefined> {
  return (await c.req(id, 'GET', `/api/instance/list?instanceName=${name}`)).json?.instances?.[0]?.connection.state
}

/** Waits until node `id` lists every one of `names` as connected. */
export async function allConnected(c: TestCluster, id: string, names: readonly string[], ms: number): Promise<void> {
  for (const name of names) await until(async () => (await stateOn(c, id, name)) === 'connected', { what: `${name} connected on ${id}`, ms })
}

/** Sockets driven per node (its socket leases), as node `via` reports them in /api/admin/cluster. */
export async function socketsPerNode(c: TestCluster, via: string): Promise<Record<string, number>> {
  const r = await c.req(via, 'GET', '/api/admin/cluster', { token: ADMIN })
  return Object.fromEntries((r.json.nodes as { id: string; instances: number }[]).map((n) => [n.id, n.instances]))
}

/**
 * Creates `names` through node `via`, then pairs each (connect answers a QR, the simulated phone
 * scans it): one after another, or all at once with `together`. Throws on any other answer.
 */
export async function createAndPair(c: TestCluster, via: string, names: readonly string[], opts: { together?: boolean } = {}): Promise<void> {
  for (const name of names) {
    const r = await c.req(via, 'POST', '/api/instance/new', { body: { name } })
    if (r.status !== 201) throw new Error(`creating ${name}: ${r.status} ${JSON.stringify(r.json)}`)
  }
  const pair = async (name: string) => {
    const q = await c.req(via, 'GET', `/api/instance/connect/${name}`)
    if (q.json?.status !== 'qr') throw new Error(`connecting ${name}: ${JSON.stringify(q.json)}`)
    const s = await c.req(via, 'POST', `/api/sim/${name}/scan`)
    if (s.status !== 200) throw new Error(`scanning ${name}: ${s.status}`)
  }
  if (opts.together === true) await Promise.all(names.map(pair))
  else for (const name of names) await pair(name)
}
