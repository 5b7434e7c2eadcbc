/**
 * What a restart defers, and what it must still get right: each account's ring is warmed from the
 * change log on its first resume (then every resume is served from memory), and items and configs
 * are rendered and read on first use, so a change to an instance nobody has listed since the
 * restart still diffs against what it was.
 */
import { describe, expect, it } from 'vitest'
import { createInstances, instanceId, startTestHub, tempDir, type TestHub } from '../helpers/hub.js'
import { openClient } from '../helpers/ws.js'

/** Counts the store reads the hub makes for resumes. */
function countReads(h: TestHub): { recentChanges: number; readChanges: number } {
  const counts = { recentChanges: 0, readChanges: 0 }
  const store = (h.hub as unknown as { store: Record<string, (...a: unknown[]) => unknown> }).store
  for (const name of ['recentChanges', 'readChanges'] as const) {
    const real = store[name]!.bind(store)
    store[name] = (...a: unknown[]) => {
      counts[name]++
      return real(...a)
    }
  }
  return counts
}

describe('a clean restart', () => {
  it('warms an account\'s ring from the change log on its first resume, and serves every resume from memory after', async () => {
    const dir = tempDir()
    const h = await startTestHub({}, { dir })
    await createInstances(h, ['a', 'b'])
    const from = h.hub.accounts()[0]!.seq
    for (let i = 0; i < 5; i++) h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: `before ${i}` })
    const epoch = h.hub.epoch
    const token = h.token
    await h.stop()

    const again = await startTestHub({}, { dir, token })
    const reads = countReads(again)
    again.hub.updateStatus(instanceId(again, 'b'), { displayStatus: 'after restart' })
    for (let k = 0; k < 3; k++) {
      const c = await openClient(again)
      c.send({ type: 'subscribe', id: String(k), instances: '*', since: { epoch, seq: from } })
      await c.count(7)
      expect(c.frames.map((f) => [f.type, f.seq, f.changes?.['connection.displayStatus']])).toEqual([
        ['resumed', from, undefined],
        ...[0, 1, 2, 3, 4].map((i) => ['diff', from + 1 + i, `before ${i}`]),
        ['diff', from + 6, 'after restart'],
      ])
      await c.close()
    }
    expect(reads).toEqual({ recentChanges: 1, readChanges: 0 })
    await again.stop()
  })

  it('diffs a change to an instance nobody listed since the restart against its stored item', async () => {
    const dir = tempDir()
    const h = await startTestHub({}, { dir })
    await createInstances(h, ['a'])
    h.hub.updateStatus(instanceId(h, 'a'), { state: 'connecting', displayStatus: 'Waiting for QR scan' })
    const before = (await h.req('GET', '/api/instance/list')).json.instances[0]
    const token = h.token
    await h.stop()

    const again = await startTestHub({}, { dir, token })
    const c = await openClient(again)
    // A named subscription renders nothing of the account up front.
    c.send({ type: 'subscribe', id: '1', instances: ['nobody'] })
    await c.count(1)
    await c.close()
    const d = await openClient(again)
    d.send({ type: 'subscribe', id: '2', instances: '*', since: { epoch: again.hub.epoch, seq: again.hub.accounts()[0]!.seq } })
    await d.count(1)
    again.hub.updateStatus(instanceId(again, 'a'), { displayStatus: 'Connecting…' })
    const diff = await d.next((f) => f.type === 'diff')
    expect(diff.version).toBe(before.version + 1)
    expect(Object.keys(diff.changes).sort()).toEqual(['connection.displayStatus', 'updatedAt', 'version'])
    expect(diff.changes['connection.displayStatus']).toBe('Connecting…')
    await d.close()
    await again.stop()
  })

  it('reads each stored config on first use: a settings write keeps the webhook it never showed', async () => {
    const dir = tempDir()
    const h = await startTestHub({}, { dir })
    await createInstances(h, ['a'])
    await h.req('POST', '/api/events/webhook/a', { body: { enabled: true, url: 'https://hooks.example.test/a', authorization: 'Bearer x' } })
    const token = h.token
    await h.stop()

    const again = await startTestHub({}, { dir, token })
    expect((await again.req('POST', '/api/instance/settings/a', { body: { keepOnlineStatus: true } })).status).toBe(200)
    const item = (await again.req('GET', '/api/instance/list')).json.instances[0]
    expect([item.settings.keepOnlineStatus, item.webhook.enabled, item.webhook.url]).toEqual([true, true, 'https://hooks.example.test/a'])
    expect(again.hub.instance(instanceId(again, 'a'))!.config.webhooks.default!.authorization).toBe('Bearer x')
    await again.stop()
  })
})
