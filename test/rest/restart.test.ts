import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { createInstances, instanceId, startTestHub, tempDir } from '../helpers/hub.js'

describe('restart', () => {
  it('serves identical list bodies after a restart on the same data dir', async () => {
    const dir = tempDir()
    const h = await startTestHub({}, { dir })
    await createInstances(h, ['a', 'b', 'c', 'd'])
    await h.req('POST', '/api/events/webhook/b', { body: { enabled: true, url: 'https://example.test/hook', authorization: 'secret' } })
    await h.req('POST', '/api/instance/settings/c', { body: { keepOnlineStatus: true } })
    h.hub.updateStatus(instanceId(h, 'a'), { state: 'loggedout', displayStatus: 'Logged out', reason: { code: 401, name: 'loggedOut', message: 'Intentional Logout' } })
    for (let i = 0; i < 50; i++) h.hub.updateStatus(instanceId(h, 'd'), { state: 'disconnected', displayStatus: `Disconnected (attempt ${i})` })
    const before = await Promise.all(['/api/instance/list', '/api/v1/instance/list', '/api/instance/list?instanceName=b,d'].map((p) => h.req('GET', p)))
    const token = h.token
    await h.stop()

    const again = await startTestHub({}, { dir, token })
    expect(again.first.defaultAccountToken).toBeNull()
    const after = await Promise.all(['/api/instance/list', '/api/v1/instance/list', '/api/instance/list?instanceName=b,d'].map((p) => again.req('GET', p)))
    for (let i = 0; i < before.length; i++) {
      expect(after[i]!.status).toBe(200)
      expect(after[i]!.text).toBe(before[i]!.text)
      expect(after[i]!.headers.get('etag')).toBe(before[i]!.headers.get('etag'))
      expect(after[i]!.headers.get('x-hub-seq')).toBe(before[i]!.headers.get('x-hub-seq'))
    }
    expect(after[0]!.headers.get('x-hub-epoch')).toBe(before[0]!.headers.get('x-hub-epoch'))
    await again.stop()
  })

  it('starts a new epoch when the previous run did not shut down cleanly', async () => {
    const dir = tempDir()
    const h = await startTestHub({}, { dir })
    await createInstances(h, ['a'])
    const epoch = h.hub.epoch
    await h.stop()
    // What a crash leaves: no clean-shutdown mark (test/crash kills real hub processes).
    const db = new Database(join(dir, 'statushub.db'))
    db.prepare("UPDATE meta SET value = '0' WHERE key = 'clean_shutdown'").run()
    db.close()
    const again = await startTestHub({}, { dir, token: h.token })
    expect(again.hub.epoch).not.toBe(epoch)
    expect((await again.req('GET', '/api/instance/list')).json.message).toBe('1 Instance found')
    await again.stop()
  })

  it('batches status writes: many changes, few transactions', async () => {
    const h = await startTestHub({ HUB_PERSIST_INTERVAL_MS: '20' })
    await createInstances(h, ['a', 'b'])
    h.hub.flush()
    const start = { ...h.hub.persistStats }
    for (let i = 0; i < 1000; i++) h.hub.updateStatus(instanceId(h, i % 2 ? 'a' : 'b'), { displayStatus: `n${i}` })
    h.hub.flush()
    expect(h.hub.persistStats.transactions - start.transactions).toBe(1)
    await h.stop()
  })
})
