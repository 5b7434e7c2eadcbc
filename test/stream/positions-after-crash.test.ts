/**
 * Positions only grow (stream contract, second round): after a crash the new epoch starts above
 * every seq and version a client may have seen, even those the crash kept from the disk.
 */
import WebSocket from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/hub.js'
import { spawnHub, type HubProcess } from '../helpers/process.js'
import { until } from '../helpers/wait.js'

let hubs: HubProcess[] = []
afterEach(async () => {
  for (const h of hubs) await h.kill9().catch(() => {})
  hubs = []
})

async function call(h: HubProcess, method: string, path: string, body?: unknown) {
  const r = await fetch(h.base + path, { method, headers: { token: h.token, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
  return { status: r.status, json: (await r.json()) as any }
}

/** Subscribes to `*` and records the highest seq and each instance's highest version seen. */
async function watch(h: HubProcess) {
  const ws = new WebSocket(`ws://127.0.0.1:${h.port}/ws`, { headers: { token: h.token } })
  const seen = { seq: 0, epoch: '', versions: new Map<string, number>(), frames: 0 }
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString())
    seen.frames++
    if (typeof f.seq === 'number') seen.seq = Math.max(seen.seq, f.seq)
    if (typeof f.epoch === 'string') seen.epoch = f.epoch
    for (const it of f.instances ?? []) seen.versions.set(it.name, Math.max(seen.versions.get(it.name) ?? 0, it.version))
    if (f.type === 'diff') seen.versions.set(f.instance, Math.max(seen.versions.get(f.instance) ?? 0, f.version))
  })
  await new Promise((r) => ws.once('open', r))
  ws.send(JSON.stringify({ type: 'subscribe', id: '1', instances: '*' }))
  await until(() => seen.frames > 0, 'the snapshot')
  return { seen, close: () => ws.close() }
}

describe('positions across a crash', () => {
  it('starts the new epoch above every seq and version shown before a kill -9, though none reached the disk', async () => {
    const dir = tempDir()
    // Status rows and the account's seq wait 10 s for the write-behind: the crash loses them all.
    const a = await spawnHub(dir, { HUB_PERSIST_INTERVAL_MS: '10000' })
    hubs.push(a)
    for (const name of ['a', 'b']) expect((await call(a, 'POST', '/api/instance/new', { name })).status).toBe(201)
    const w = await watch(a)
    for (let i = 0; i < 30; i++) {
      expect((await call(a, 'POST', `/api/instance/settings/${i % 2 ? 'a' : 'b'}`, { keepOnlineStatus: i % 4 < 2 })).status).toBe(200)
    }
    await until(() => w.seen.seq >= 32, { what: 'every change to reach the subscriber', detail: () => w.seen.seq })
    const before = { epoch: w.seen.epoch, seq: w.seen.seq, a: w.seen.versions.get('a')!, b: w.seen.versions.get('b')! }
    w.close()
    await a.kill9()

    const b = await spawnHub(dir, {}, a.token)
    hubs.push(b)
    const list = await fetch(`${b.base}/api/instance/list`, { headers: { token: b.token } })
    const body = (await list.json()) as any
    const epoch = list.headers.get('x-hub-epoch')!
    const seq = Number(list.headers.get('x-hub-seq'))
    const versions = Object.fromEntries(body.instances.map((i: any) => [i.name, i.version]))
    expect(epoch).not.toBe(before.epoch)
    expect(seq).toBeGreaterThan(before.seq)
    expect(versions.a).toBeGreaterThan(before.a)
    expect(versions.b).toBeGreaterThan(before.b)
    // The next change continues above, and a further clean restart keeps the new epoch.
    expect((await call(b, 'POST', '/api/instance/settings/a', { keepOnlineStatus: true })).status).toBe(200)
    expect(await b.stop()).toBe(0)
    const c = await spawnHub(dir, {}, a.token)
    hubs.push(c)
    const again = await fetch(`${c.base}/api/instance/list`, { headers: { token: c.token } })
    expect(again.headers.get('x-hub-epoch')).toBe(epoch)
    expect(Number(again.headers.get('x-hub-seq'))).toBe(seq + 1)
  }, 90_000)
})
