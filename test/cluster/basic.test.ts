import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, ready, startCluster, type TestCluster } from '../helpers/cluster.js'
import { until, untilValue } from '../helpers/wait.js'

let c: TestCluster

beforeAll(async () => {
  c = await startCluster()
  await c.start('a')
  await c.start('b')
  await ready(c, 'a')
  await ready(c, 'b')
}, 60_000)

afterAll(async () => {
  await c?.dispose()
})

const item = async (node: string, name: string) => (await c.req(node, 'GET', `/api/instance/list?instanceName=${name}`)).json?.instances?.[0]

describe('a cluster of two nodes', () => {
  it('shows an instance created through one node in the next list of that node, and soon in the other', async () => {
    const r = await c.req('a', 'POST', '/api/instance/new', { body: { name: 'sales' } })
    expect(r.status).toBe(201)
    expect((await item('a', 'sales')).name).toBe('sales')
    await untilValue(() => item('b', 'sales'), (i) => i?.name === 'sales', { what: 'sales on b' })
  })

  it('connects through either node and reports the same state and position on both', async () => {
    const qr = await c.req('b', 'GET', '/api/instance/connect/sales')
    expect([qr.status, qr.json.status]).toEqual([200, 'qr'])
    expect((await c.req('a', 'POST', '/api/sim/sales/scan')).status).toBe(200)
    for (const n of ['a', 'b']) await untilValue(() => item(n, 'sales'), (i) => i?.connection.state === 'connected', { what: `connected on ${n}`, ms: 20_000 })
    const [la, lb] = await Promise.all([c.req('a', 'GET', '/api/instance/list'), c.req('b', 'GET', '/api/instance/list')])
    await until(async () => (await c.req('a', 'GET', '/api/instance/list')).headers.get('x-hub-seq') === (await c.req('b', 'GET', '/api/instance/list')).headers.get('x-hub-seq'), 'same seq')
    expect(la.json.instances[0].connection.state).toBe(lb.json.instances[0].connection.state)
  })

  it('lists both nodes in /api/admin/cluster with the leases they hold', async () => {
    const r = await c.req('a', 'GET', '/api/admin/cluster', { token: ADMIN })
    expect(r.status).toBe(200)
    expect(r.json.nodes.map((n: { id: string }) => n.id).sort()).toEqual(['a', 'b'])
    expect(r.json.nodes.reduce((s: number, n: { instances: number }) => s + n.instances, 0)).toBe(1)
  })
})
