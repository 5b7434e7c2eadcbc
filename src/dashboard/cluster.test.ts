import { describe, expect, it } from 'vitest'
import { ApiError, type Api } from './api.js'
import { fetchAccounts, fetchCluster, fetchReadiness, readinessText, rolesText } from './cluster.js'

describe('fetchCluster and fetchAccounts', () => {
  it('read the epoch, the nodes with their leases, and the accounts; malformed entries are dropped', async () => {
    const api: Api = async (_m, path) =>
      path === '/api/admin/cluster'
        ? { success: true, epoch: 'e1', nodes: [{ id: 'a:1', roles: ['worker', 'edge'], instances: 3, accounts: 2, lastSeenAt: '2025-01-01T00:00:00.000Z' }, { roles: [] }] }
        : { success: true, accounts: [{ id: 1, name: 'default', instanceLimit: 100, instances: 12, createdAt: '2025-01-01T00:00:00.000Z' }, { id: '2', name: 'x' }] }
    expect(await fetchCluster(api)).toEqual({ epoch: 'e1', nodes: [{ id: 'a:1', roles: ['worker', 'edge'], instances: 3, accounts: 2, lastSeenAt: '2025-01-01T00:00:00.000Z' }] })
    expect(await fetchAccounts(api)).toEqual([{ id: 1, name: 'default', instanceLimit: 100, instances: 12, createdAt: '2025-01-01T00:00:00.000Z' }])
  })
})

describe('fetchReadiness', () => {
  it("is ready on 200, and not ready with the hub's words on 503", async () => {
    expect(await fetchReadiness(async () => ({ success: true, status: 'ready' }))).toEqual({ ready: true })
    const down = await fetchReadiness(async () => {
      throw new ApiError(503, 'This node cannot reach the cluster engine (NATS)')
    })
    expect(down).toEqual({ ready: false, why: 'This node cannot reach the cluster engine (NATS)' })
    expect([readinessText({ ready: true }), readinessText(down)]).toEqual(['ready', 'not ready: This node cannot reach the cluster engine (NATS)'])
    expect([rolesText(['worker', 'edge']), rolesText([])]).toEqual(['worker, edge', 'none'])
  })
})
