import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { createInstances, instanceId, startTestHub, tempDir } from '../helpers/hub.js'
import { openClient } from '../helpers/ws.js'

describe('resume', () => {
  it('serves a resume from memory only while the missed changes are younger than HUB_CHANGELOG_MAX_AGE_S', async () => {
    const clock = { t: Date.parse('2026-03-01T12:00:00.000Z'), now() { return this.t } }
    const h = await startTestHub({ HUB_CHANGELOG_MAX_AGE_S: '60' }, { clock })
    await createInstances(h, ['a'])
    const from = h.hub.accounts()[0]!.seq
    h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: 'while away' })
    const resume = async () => {
      const c = await openClient(h)
      c.send({ type: 'subscribe', id: '1', instances: '*', since: { epoch: h.hub.epoch, seq: from } })
      const first = await c.next(() => true)
      await c.close()
      return [first.type, first.recovered]
    }
    clock.t += 59_000
    expect(await resume()).toEqual(['resumed', true])
    clock.t += 2_000
    expect(await resume()).toEqual(['snapshot', false])
    await h.stop()
  })

  it('replays exactly the missed diffs in order with recovered:true, then goes live', async () => {
    const h = await startTestHub()
    await createInstances(h, ['a', 'b'])
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: '1', instances: '*' })
    const snap = await c.next((f) => f.type === 'snapshot')
    for (let i = 1; i <= 3; i++) h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: `before ${i}` })
    await c.count(4)
    const last = c.frames.at(-1).seq
    expect(last).toBe(snap.seq + 3)
    await c.close()

    for (let i = 1; i <= 5; i++) h.hub.updateStatus(instanceId(h, i % 2 ? 'a' : 'b'), { displayStatus: `away ${i}` })
    const back = await openClient(h)
    back.send({ type: 'subscribe', id: '2', instances: '*', since: { epoch: h.hub.epoch, seq: last } })
    await back.count(6)
    expect(back.frames[0]).toEqual({ type: 'resumed', id: '2', epoch: h.hub.epoch, seq: last, recovered: true })
    expect(back.frames.slice(1).map((f) => [f.seq, f.instance, f.changes['connection.displayStatus']])).toEqual([
      [last + 1, 'a', 'away 1'],
      [last + 2, 'b', 'away 2'],
      [last + 3, 'a', 'away 3'],
      [last + 4, 'b', 'away 4'],
      [last + 5, 'a', 'away 5'],
    ])
    h.hub.updateStatus(instanceId(h, 'b'), { displayStatus: 'live' })
    expect((await back.next((f) => f.seq === last + 6)).changes['connection.displayStatus']).toBe('live')
    expect(back.frames).toHaveLength(7)
    await back.close()
    await h.stop()
  })

  it('resumes a named subscription with only that instance\'s missed diffs', async () => {
    const h = await startTestHub()
    await createInstances(h, ['a', 'b'])
    const from = h.hub.accounts()[0]!.seq
    h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: 'a1' })
    h.hub.updateStatus(instanceId(h, 'b'), { displayStatus: 'b1' })
    h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: 'a2' })
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: 'n', instances: ['b'], since: { epoch: h.hub.epoch, seq: from } })
    await c.count(2)
    expect(c.frames.map((f) => [f.type, f.seq ?? null])).toEqual([['resumed', from], ['diff', from + 2]])
    await c.close()
    await h.stop()
  })

  it('resumes a named subscription whose instance was deleted while away, replaying its removal in order', async () => {
    const h = await startTestHub()
    await createInstances(h, ['a', 'b'])
    const from = h.hub.accounts()[0]!.seq
    h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: 'a1' })
    h.hub.updateStatus(instanceId(h, 'b'), { displayStatus: 'b1' })
    expect((await h.req('DELETE', '/api/instance/delete/b')).status).toBe(200)
    h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: 'a2' })
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: 'r', instances: ['a', 'b'], since: { epoch: h.hub.epoch, seq: from } })
    await c.count(5)
    expect(c.frames.map((f) => [f.type, f.seq, f.type === 'removed' ? f.instance : f.changes?.['connection.displayStatus']])).toEqual([
      ['resumed', from, undefined],
      ['diff', from + 1, 'a1'],
      ['diff', from + 2, 'b1'],
      ['removed', from + 3, 'b'],
      ['diff', from + 4, 'a2'],
    ])
    h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: 'live' })
    expect((await c.next((f) => f.seq === from + 5)).changes['connection.displayStatus']).toBe('live')
    expect(c.frames).toHaveLength(6)
    await c.close()
    await h.stop()
  })

  it('answers a snapshot of the remaining names, not an error, when a deleted instance\'s removal is no longer kept', async () => {
    const h = await startTestHub({ HUB_STREAM_RING_SIZE: '3', HUB_CHANGELOG_MAX: '3' })
    await createInstances(h, ['a', 'b'])
    const from = h.hub.accounts()[0]!.seq
    expect((await h.req('DELETE', '/api/instance/delete/b')).status).toBe(200)
    for (let i = 1; i <= 10; i++) h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: `n${i}` })
    h.hub.prune()
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: 'r', instances: ['a', 'b'], since: { epoch: h.hub.epoch, seq: from } })
    c.send({ type: 'subscribe', id: 'e', instances: ['a', 'b'], since: { epoch: 'someotherepoch', seq: from } })
    c.send({ type: 'subscribe', id: 'f', instances: ['a', 'b'] })
    await c.count(3)
    const list = await h.req('GET', '/api/instance/list')
    const snapshot = (id: string) => ({ type: 'snapshot', id, epoch: h.hub.epoch, seq: Number(list.headers.get('x-hub-seq')), recovered: false, instances: list.json.instances })
    expect(list.json.instances.map((i: any) => i.name)).toEqual(['a'])
    expect(c.frames).toEqual([snapshot('r'), snapshot('e'), { type: 'error', id: 'f', message: 'Instance not found: b' }])
    h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: 'live' })
    expect((await c.next((f) => f.type === 'diff')).changes['connection.displayStatus']).toBe('live')
    await c.close()
    await h.stop()
  })

  it('still refuses a deleted sibling named in a TokenInstance\'s resume, and replays nothing of it', async () => {
    const h = await startTestHub()
    const tokens = await createInstances(h, ['a', 'b'])
    const from = h.hub.accounts()[0]!.seq
    h.hub.updateStatus(instanceId(h, 'b'), { displayStatus: 'b1' })
    expect((await h.req('DELETE', '/api/instance/delete/b')).status).toBe(200)
    const c = await openClient(h, { token: tokens.a })
    c.send({ type: 'subscribe', id: 'r', instances: ['a', 'b'], since: { epoch: h.hub.epoch, seq: from } })
    c.send({ type: 'ping', id: 'p' })
    await c.count(2)
    expect(c.frames).toEqual([{ type: 'error', id: 'r', message: 'Instance not found: b' }, { type: 'pong', id: 'p' }])
    await c.close()
    await h.stop()
  })

  it('recovers from the SQLite change log when the memory ring no longer holds the position', async () => {
    const h = await startTestHub({ HUB_STREAM_RING_SIZE: '3' })
    await createInstances(h, ['a'])
    const from = h.hub.accounts()[0]!.seq
    for (let i = 1; i <= 10; i++) h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: `n${i}` })
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: '1', instances: '*', since: { epoch: h.hub.epoch, seq: from } })
    await c.count(11)
    expect(c.frames[0].recovered).toBe(true)
    expect(c.frames.slice(1).map((f) => f.seq)).toEqual(Array.from({ length: 10 }, (_, i) => from + 1 + i))
    await c.close()
    await h.stop()
  })

  it('answers a fresh snapshot with recovered:false, equal to the REST list, when changes were pruned', async () => {
    const h = await startTestHub({ HUB_STREAM_RING_SIZE: '3', HUB_CHANGELOG_MAX: '3' })
    await createInstances(h, ['a', 'b'])
    const from = h.hub.accounts()[0]!.seq
    for (let i = 1; i <= 10; i++) h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: `n${i}` })
    h.hub.prune()
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: '1', instances: '*', since: { epoch: h.hub.epoch, seq: from } })
    const snap = await c.next(() => true)
    const list = await h.req('GET', '/api/instance/list')
    expect(snap).toEqual({ type: 'snapshot', id: '1', epoch: h.hub.epoch, seq: Number(list.headers.get('x-hub-seq')), recovered: false, instances: list.json.instances })
    expect(c.frames).toHaveLength(1)
    await c.close()
    await h.stop()
  })

  it('answers a snapshot for an unknown epoch or a position ahead of the stream', async () => {
    const h = await startTestHub()
    await createInstances(h, ['a'])
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: 'e', instances: '*', since: { epoch: 'someotherepoch', seq: 1 } })
    c.send({ type: 'subscribe', id: 'f', instances: '*', since: { epoch: h.hub.epoch, seq: 999 } })
    await c.count(2)
    expect(c.frames.map((f) => [f.id, f.type, f.recovered])).toEqual([['e', 'snapshot', false], ['f', 'snapshot', false]])
    await c.close()
    await h.stop()
  })

  it('resumes across a clean hub restart with the same database', async () => {
    const dir = tempDir()
    const h = await startTestHub({}, { dir })
    await createInstances(h, ['a'])
    const epoch = h.hub.epoch
    const from = h.hub.accounts()[0]!.seq
    h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: 'before restart' })
    const token = h.token
    await h.stop()
    const again = await startTestHub({}, { dir, token })
    expect(again.hub.epoch).toBe(epoch)
    again.hub.updateStatus(instanceId(again, 'a'), { displayStatus: 'after restart' })
    const c = await openClient(again)
    c.send({ type: 'subscribe', id: '1', instances: '*', since: { epoch, seq: from } })
    await c.count(3)
    expect(c.frames.map((f) => [f.type, f.seq, f.changes?.['connection.displayStatus']])).toEqual([
      ['resumed', from, undefined],
      ['diff', from + 1, 'before restart'],
      ['diff', from + 2, 'after restart'],
    ])
    await c.close()
    await again.stop()
  })

  it('starts a new epoch and answers a snapshot after the change log is lost', async () => {
    const dir = tempDir()
    const h = await startTestHub({}, { dir })
    await createInstances(h, ['a'])
    const epoch = h.hub.epoch
    h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: 'x' })
    const seq = h.hub.accounts()[0]!.seq
    const token = h.token
    await h.stop()
    const db = new Database(`${dir}/statushub.db`)
    db.exec('DELETE FROM change_log')
    db.close()
    const again = await startTestHub({}, { dir, token })
    expect(again.hub.epoch).not.toBe(epoch)
    const c = await openClient(again)
    c.send({ type: 'subscribe', id: '1', instances: '*', since: { epoch, seq } })
    const f = await c.next(() => true)
    expect([f.type, f.recovered, f.epoch]).toEqual(['snapshot', false, again.hub.epoch])
    // Positions only grow: the new epoch starts above every seq that may have been shown.
    expect(f.seq).toBeGreaterThan(seq)
    again.hub.updateStatus(instanceId(again, 'a'), { displayStatus: 'y' })
    expect((await c.next((x) => x.type === 'diff')).seq).toBe(f.seq + 1)
    await c.close()
    await again.stop()
  })

  it('closes sockets with 1001 when the hub shuts down', async () => {
    const h = await startTestHub()
    const c = await openClient(h)
    await h.stop()
    expect(await c.closed).toEqual({ code: 1001, reason: 'hub shutting down' })
  })
})
