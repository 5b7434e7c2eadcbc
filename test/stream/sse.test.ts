import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInstances, instanceId, startTestHub, type TestHub } from '../helpers/hub.js'
import { sseRequest } from '../helpers/sse.js'

async function openSse(h: TestHub, path: string, headers: Record<string, string> = {}) {
  const s = await sseRequest(h.base + path, { token: h.token, ...headers })
  void s.read()
  return s
}

let h: TestHub
beforeAll(async () => {
  h = await startTestHub()
  await createInstances(h, ['a', 'b'])
})
afterAll(() => h.stop())

describe('GET /api/instance/stream (SSE)', () => {
  it('sends a snapshot, then the same diff frames as the WebSocket, each with id <epoch>:<seq>', async () => {
    const s = await openSse(h, '/api/instance/stream')
    expect(s.res.headers.get('content-type')).toBe('text/event-stream')
    await s.until(1)
    const snap = s.events[0]!
    expect(snap.event).toBe('snapshot')
    expect(snap.id).toBe(`${h.hub.epoch}:${snap.data.seq}`)
    expect(snap.data.instances.map((i: any) => i.name)).toEqual(['a', 'b'])
    h.hub.updateStatus(instanceId(h, 'b'), { state: 'connecting', displayStatus: 'Connecting…' })
    await s.until(2)
    const diff = s.events[1]!
    expect(diff.event).toBe('diff')
    expect(diff.id).toBe(`${h.hub.epoch}:${snap.data.seq + 1}`)
    expect(diff.data).toMatchObject({ type: 'diff', seq: snap.data.seq + 1, instance: 'b', changes: { 'connection.state': 'connecting' } })
    await s.close()
  })

  it('resumes from Last-Event-ID exactly as since does', async () => {
    const first = await openSse(h, '/api/instance/stream')
    await first.until(1)
    const lastId = first.events[0]!.id
    await first.close()
    h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: 'missed 1' })
    h.hub.updateStatus(instanceId(h, 'b'), { displayStatus: 'missed 2' })
    const again = await openSse(h, '/api/instance/stream', { 'last-event-id': lastId })
    await again.until(3)
    const seq = Number(lastId.split(':')[1])
    expect(again.events.map((e) => [e.event, e.id])).toEqual([
      ['resumed', lastId],
      ['diff', `${h.hub.epoch}:${seq + 1}`],
      ['diff', `${h.hub.epoch}:${seq + 2}`],
    ])
    expect(again.events[0]!.data).toEqual({ type: 'resumed', epoch: h.hub.epoch, seq, recovered: true })
    expect(again.events[2]!.data.changes['connection.displayStatus']).toBe('missed 2')
    await again.close()
  })

  it('follows an instance named by its apiInstanceName, as the list does', async () => {
    const api = h.hub.instance(instanceId(h, 'b'))!.apiInstanceName
    expect((await h.req('GET', `/api/instance/list?instanceName=${api}`)).status).toBe(200)
    const s = await openSse(h, `/api/instance/stream?instanceName=${api}`)
    expect(s.res.status).toBe(200)
    await s.until(1)
    expect(s.events[0]!.data.instances.map((i: any) => i.name)).toEqual(['b'])
    h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: 'not for b' })
    h.hub.updateStatus(instanceId(h, 'b'), { displayStatus: 'for b' })
    await s.until(2)
    expect(s.events[1]!.data).toMatchObject({ type: 'diff', instance: 'b', changes: { 'connection.displayStatus': 'for b' } })
    await s.close()
  })

  it('replays the removal of a filtered instance deleted while the client was away', async () => {
    await createInstances(h, ['temp'])
    const first = await openSse(h, '/api/instance/stream?instanceName=a,temp')
    await first.until(1)
    const lastId = first.events[0]!.id
    await first.close()
    expect((await h.req('DELETE', '/api/instance/delete/temp')).status).toBe(200)
    const again = await openSse(h, '/api/instance/stream?instanceName=a,temp', { 'last-event-id': lastId })
    await again.until(2)
    expect(again.events.map((e) => [e.event, e.data.instance])).toEqual([
      ['resumed', undefined],
      ['removed', 'temp'],
    ])
    await again.close()
  })

  it('applies the list filter and refuses a single unknown name with 404', async () => {
    const s = await openSse(h, '/api/instance/stream?instanceName=a')
    await s.until(1)
    expect(s.events[0]!.data.instances.map((i: any) => i.name)).toEqual(['a'])
    h.hub.updateStatus(instanceId(h, 'b'), { displayStatus: 'not for a' })
    h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: 'for a' })
    await s.until(2)
    expect(s.events[1]!.data.instance).toBe('a')
    await s.close()
    const r = await h.req('GET', '/api/instance/stream?instanceName=zzz')
    expect(r.status).toBe(404)
    expect((await h.req('GET', '/api/instance/stream', { token: 'bad' })).status).toBe(401)
  })
})
