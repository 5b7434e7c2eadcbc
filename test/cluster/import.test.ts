/**
 * `npm run hub -- cluster import <data dir>` ("Running" in the cluster contract,
 * ../shared/spec/cluster.md): an embedded hub's data, moved into an empty cluster, is served by
 * every node as the embedded hub served it; the cluster's streams start a new epoch; anything but
 * an empty cluster and a stopped hub's data dir is refused with nothing changed.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { Kvm } from '@nats-io/kv'
import { jetstreamManager } from '@nats-io/jetstream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLUSTER_KEY, ready, startCluster, type TestCluster } from '../helpers/cluster.js'
import { startNatsServer, type NatsServer } from '../helpers/nats.js'
import { spawnHub, type HubProcess } from '../helpers/process.js'
import { untilValue } from '../helpers/wait.js'

const TTL = '3000'

/** The CLI as an operator runs it (`npm run hub -- …` is `tsx src/app/cli.ts …`). */
function runImport(dir: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/cli.ts', 'cluster', 'import', dir], {
      env: { ...process.env, HUB_DATA_DIR: '', HUB_ADMIN_TOKEN: '', HUB_SECRET_KEY: CLUSTER_KEY, HUB_LEASE_TTL_MS: TTL, ...env },
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('exit', (code) => resolve({ code, out }))
  })
}

async function req(base: string, method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  let json: any = null
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: res.status, json }
}

const byName = (instances: { name: string }[]): Record<string, any> => Object.fromEntries(instances.map((i) => [i.name, i] as const).sort(([a], [b]) => a.localeCompare(b)))
/** What a reconnect legitimately changes in an item: its version, times, and the socket's own facts. */
const settled = (item: any) => {
  const { version: _v, updatedAt: _u, connection, ...rest } = item
  const { since: _s, ...conn } = connection
  return { ...rest, connection: conn }
}

/** What an import or a node writes once and nothing else changes: the fingerprint, meta, counters, accounts. */
async function fixedState(nc: NatsConnection): Promise<Record<string, number>> {
  const kv = await new Kvm(nc).open('sh_state')
  const out: Record<string, number> = {}
  for await (const k of await kv.keys()) {
    if (k === 'cluster' || /^(m|n|a|an)\./.test(k)) out[k] = (await kv.get(k))!.revision
  }
  return out
}

let embeddedDir: string
let nats: NatsServer
let c: TestCluster
const seen = {
  admin: '',
  defaultToken: '',
  acmeToken: '',
  salesToken: '',
  epoch: '',
  accounts: null as unknown,
  lists: {} as Record<string, Record<string, any>>,
  webhooks: null as unknown,
}
let imported: { code: number | null; out: string }

beforeAll(async () => {
  embeddedDir = mkdtempSync(join(tmpdir(), 'statushub-import-'))
  // Its own admin token (stored as a hash) and its own secret key (secret.key in the data dir).
  const hub: HubProcess = await spawnHub(embeddedDir, { HUB_WHATSAPP: 'simulated', HUB_ADMIN_TOKEN: '' })
  seen.admin = /Admin token \(shown once; manages accounts\): (\S+)/.exec(hub.out())![1]!
  seen.defaultToken = hub.token
  const acme = await req(hub.base, 'POST', '/api/admin/accounts', seen.admin, { name: 'acme', instanceLimit: 7 })
  expect(acme.status).toBe(201)
  seen.acmeToken = acme.json.token
  const sales = await req(hub.base, 'POST', '/api/instance/new', seen.defaultToken, {
    name: 'sales',
    proxyHost: 'proxy.example.test',
    proxyPort: 3128,
    proxyProtocol: 'http',
    proxyUsername: 'u',
    proxyPassword: 'proxy-pass-1234',
    webhookURL: 'https://hooks.example.test/in',
    webhookAuthorization: 'Bearer hook-9999',
    webhookEvents: ['instance.state'],
  })
  expect(sales.status).toBe(201)
  seen.salesToken = sales.json.instance.token
  for (const [name, token] of [['support', seen.defaultToken], ['ops', seen.acmeToken], ['idle', seen.acmeToken]] as const) {
    expect((await req(hub.base, 'POST', '/api/instance/new', token, { name })).status).toBe(201)
  }
  expect((await req(hub.base, 'POST', '/api/instance/settings/support', seen.defaultToken, { autoRejectCalls: true, callRejectMessage: 'busy' })).status).toBe(200)
  expect((await req(hub.base, 'POST', '/api/instance/settings/ops', seen.acmeToken, { keepOnlineStatus: true })).status).toBe(200)
  // Paired: a session in the data dir.
  expect((await req(hub.base, 'GET', '/api/instance/connect/sales', seen.defaultToken)).json.status).toBe('qr')
  expect((await req(hub.base, 'POST', '/api/sim/sales/scan', seen.defaultToken)).status).toBe(200)
  await untilValue(() => req(hub.base, 'GET', '/api/instance/list', seen.defaultToken), (r) => {
      const sales = byName(r.json.instances).sales
      return sales?.connection.state === 'connected' && sales.connection.synced === true && sales.profile.name !== ''
    }, { what: 'sales connected and synced on the embedded hub', ms: 20_000 })
  seen.epoch = (await req(hub.base, 'GET', '/api/admin/cluster', seen.admin)).json.epoch
  seen.accounts = (await req(hub.base, 'GET', '/api/admin/accounts', seen.admin)).json
  seen.webhooks = (await req(hub.base, 'GET', '/api/events/getWebhook/sales', seen.defaultToken)).json
  for (const [account, token] of [['default', seen.defaultToken], ['acme', seen.acmeToken]] as const) {
    seen.lists[account] = byName((await req(hub.base, 'GET', '/api/instance/list', token)).json.instances)
  }
  expect(await hub.stop()).toBe(0)

  nats = await startNatsServer()
  imported = await runImport(embeddedDir, { HUB_NATS_URL: nats.url })
  c = await startCluster({ nats, token: seen.defaultToken, ttlMs: Number(TTL), env: { HUB_ADMIN_TOKEN: '' } })
  await c.start('a')
  await c.start('b')
  await ready(c, 'a')
  await ready(c, 'b')
}, 120_000)

afterAll(async () => {
  await c?.dispose()
  await nats?.dispose()
})

describe('cluster import of an embedded hub into an empty cluster', () => {
  it('prints what it imported and the new epoch, which is not the embedded hub’s', () => {
    expect(imported.code, imported.out).toBe(0)
    expect(imported.out).toContain('Imported 2 accounts, 4 instances, 1 session')
    expect(imported.out).toContain('Admin token: the embedded hub’s, imported')
    const epoch = /New epoch: (\S+)/.exec(imported.out)?.[1]
    expect(epoch).toBeDefined()
    expect(epoch).not.toBe(seen.epoch)
  })

  it('serves the new epoch on every node, and no node created a second default account', async () => {
    const epoch = /New epoch: (\S+)/.exec(imported.out)![1]
    for (const n of ['a', 'b']) {
      expect((await c.req(n, 'GET', '/api/admin/cluster', { token: seen.admin })).json.epoch).toBe(epoch)
      expect((await c.req(n, 'GET', '/api/admin/accounts', { token: seen.admin })).json).toEqual(seen.accounts)
    }
  })

  it('keeps every account (names, limits) and its token, on both nodes, with the embedded admin token', async () => {
    for (const n of ['a', 'b']) {
      const accounts = (await c.req(n, 'GET', '/api/admin/accounts', { token: seen.admin })).json.accounts
      expect(accounts.map((a: any) => [a.id, a.name, a.instanceLimit, a.instances])).toEqual([
        [1, 'default', 100, 2],
        [2, 'acme', 7, 2],
      ])
      for (const token of [seen.defaultToken, seen.acmeToken]) expect((await c.req(n, 'GET', '/api/instance/list', { token })).status).toBe(200)
    }
  })

  it('lists every instance not reconnecting exactly as the embedded hub did, settings and integrations included', async () => {
    for (const n of ['a', 'b']) {
      const acme = byName((await c.req(n, 'GET', '/api/instance/list', { token: seen.acmeToken })).json.instances)
      expect(acme).toEqual(seen.lists.acme)
      expect(acme.ops.settings.keepOnlineStatus).toBe(true)
      const dflt = byName((await c.req(n, 'GET', '/api/instance/list', { token: seen.defaultToken })).json.instances)
      expect(dflt.support).toEqual(seen.lists.default!.support)
      expect([dflt.support.settings.autoRejectCalls, dflt.support.settings.callRejectMessage]).toEqual([true, 'busy'])
      // The webhook's secrets were opened with the embedded key and sealed again with the cluster's.
      expect((await c.req(n, 'GET', '/api/events/getWebhook/sales')).json).toEqual(seen.webhooks)
    }
  })

  it('reconnects the paired instance on one worker from its imported session, without a new scan, and then lists it as the embedded hub did', async () => {
    for (const n of ['a', 'b']) {
      const sales = await untilValue(
        async () => byName((await c.req(n, 'GET', '/api/instance/list')).json.instances).sales,
        (i: any) => i?.connection.state === 'connected',
        { what: `sales connected on ${n}`, ms: 20_000 },
      )
      expect(sales.connection.numberJid).toBe(seen.lists.default!.sales.connection.numberJid)
      expect(settled(sales)).toEqual(settled(seen.lists.default!.sales))
      expect(sales.version).toBeGreaterThan(seen.lists.default!.sales.version)
    }
    const nodes = (await c.req('a', 'GET', '/api/admin/cluster', { token: seen.admin })).json.nodes
    expect(nodes.reduce((s: number, n: { instances: number }) => s + n.instances, 0)).toBe(1)
  })

  it('refuses a second import into the now non-empty cluster with exit 1, changing nothing', async () => {
    const nc = await connect({ servers: nats.url })
    try {
      const jsm = await jetstreamManager(nc)
      const before = { state: await fixedState(nc), created: (await jsm.streams.info('SH_CHANGES')).created }
      const again = await runImport(embeddedDir, { HUB_NATS_URL: nats.url })
      expect(again.code, again.out).toBe(1)
      expect(again.out).toContain('The cluster is not empty (its default account was created)')
      expect(again.out).toContain('Nothing was imported.')
      expect({ state: await fixedState(nc), created: (await jsm.streams.info('SH_CHANGES')).created }).toEqual(before)
      expect((await c.req('b', 'GET', '/api/admin/accounts', { token: seen.admin })).json).toEqual(seen.accounts)
    } finally {
      await nc.close()
    }
  })
})

describe('cluster import refuses a data dir it must not take', () => {
  it('refuses the data dir of a running hub (it holds the lock) with exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'statushub-import-running-'))
    const hub = await spawnHub(dir, { HUB_WHATSAPP: 'simulated' })
    try {
      const r = await runImport(dir, { HUB_NATS_URL: nats.url })
      expect(r.code, r.out).toBe(1)
      expect(r.out).toMatch(/^error: a hub \(pid \d+\) is running on \S+ \(it holds \S+statushub.lock\): stop it, then import\./)
      expect(r.out).toContain('Nothing was imported.')
      expect((await req(hub.base, 'GET', '/api/instance/list', hub.token)).status).toBe(200)
    } finally {
      await hub.stop()
    }
  })

  it('refuses a folder without a database with exit 1 and writes nothing into it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'statushub-import-empty-'))
    const r = await runImport(dir, { HUB_NATS_URL: nats.url })
    expect(r.code, r.out).toBe(1)
    expect(r.out).toContain('holds no database')
    expect(readdirSync(dir)).toEqual([])
  })
})
