/**
 * `GET /metrics` on cluster nodes (real nats-server, two node processes, simulated WhatsApp): the
 * cluster series say which leases each node holds and whether it reaches the engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, allConnected, createAndPair, ready, socketsPerNode, startCluster, type TestCluster } from '../helpers/cluster.js'
import { until, untilValue } from '../helpers/wait.js'
import { scrape, type Scrape } from '../metrics/scrape.js'

let c: TestCluster
const NODES = ['a', 'b']
const PAIRED = ['m1', 'm2', 'm3']

beforeAll(async () => {
  c = await startCluster()
  for (const id of NODES) await c.start(id)
  for (const id of NODES) await ready(c, id)
  await createAndPair(c, 'a', PAIRED)
  const acme = await c.req('a', 'POST', '/api/admin/accounts', { token: ADMIN, body: { name: 'acme' } })
  expect(acme.status).toBe(201)
  expect((await c.req('b', 'POST', '/api/instance/new', { token: acme.json.token, body: { name: 'unpaired' } })).status).toBe(201)
  await allConnected(c, 'a', PAIRED, 20_000)
  await allConnected(c, 'b', PAIRED, 20_000)
}, 90_000)

afterAll(async () => {
  await c?.dispose()
})

const metricsOf = (id: string): Promise<Scrape> => scrape(c.node(id).base, ADMIN)

interface NodeLeases {
  instance: number
  account: number
}

async function leases(): Promise<Record<string, NodeLeases>> {
  const out: Record<string, NodeLeases> = {}
  for (const id of NODES) {
    const m = await metricsOf(id)
    out[id] = { instance: m.value('statushub_cluster_leases', { kind: 'instance' })!, account: m.value('statushub_cluster_leases', { kind: 'account' })! }
  }
  return out
}

const sum = (l: Record<string, NodeLeases>, kind: keyof NodeLeases) => Object.values(l).reduce((n, x) => n + x[kind], 0)

describe('metrics of a cluster node', () => {
  it('has the cluster series, statushub_engine_connected at 1, and the webhook series, each node delivering the webhooks of the accounts it writes', async () => {
    let deliverers = 0
    for (const id of NODES) {
      const m = await metricsOf(id)
      expect(m.types.get('statushub_cluster_leases')).toBe('gauge')
      expect(m.types.get('statushub_engine_connected')).toBe('gauge')
      expect(m.value('statushub_engine_connected')).toBe(1)
      expect(m.types.get('statushub_webhook_deliveries_total')).toBe('counter')
      expect(m.types.get('statushub_webhook_pending')).toBe('gauge')
      expect(m.types.get('statushub_instances')).toBe('gauge')
      expect(m.value('statushub_webhook_deliverer')).toBe(m.value('statushub_cluster_leases', { kind: 'account' }))
      deliverers += m.value('statushub_webhook_deliverer')!
    }
    // The default account and acme.
    expect(deliverers).toBe(2)
  })

  it('reports on every node the instances of the whole cluster by state', async () => {
    for (const id of NODES) {
      expect((await metricsOf(id)).series('statushub_instances')).toEqual({ 'state=connected': 3, 'state=connecting': 0, 'state=disconnected': 1, 'state=loggedout': 0 })
    }
  })

  it('statushub_cluster_leases: each node reports the leases it holds; summed, one per account and one per connected instance', async () => {
    // Sockets may still be moving between nodes (rebalancing): wait until the nodes' own reports settle.
    const settled = await untilValue(
      async () => ({ metrics: await leases(), listed: await socketsPerNode(c, 'a') }),
      (v) => sum(v.metrics, 'instance') === PAIRED.length && sum(v.metrics, 'account') === 2 && NODES.every((id) => v.metrics[id]!.instance === v.listed[id]),
      { what: 'leases summing to the accounts and the connected instances', ms: 30_000 },
    )
    expect(sum(settled.metrics, 'instance')).toBe(3)
    expect(sum(settled.metrics, 'account')).toBe(2)
    for (const id of NODES) expect(settled.metrics[id]!.instance).toBe(settled.listed[id])
  })

  it('statushub_engine_connected goes to 0 on every node when nats-server stops, and back to 1 when it returns', async () => {
    await c.nats.stop()
    for (const id of NODES) {
      await until(async () => (await metricsOf(id).catch(() => null))?.value('statushub_engine_connected') === 0, { what: `${id} disconnected from the engine`, ms: 15_000 })
    }
    await c.nats.start()
    for (const id of NODES) {
      await until(async () => (await metricsOf(id).catch(() => null))?.value('statushub_engine_connected') === 1, { what: `${id} connected again`, ms: 30_000 })
    }
  })
})
