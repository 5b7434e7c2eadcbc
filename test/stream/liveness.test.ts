import { describe, expect, it } from 'vitest'
import { startTestHub } from '../helpers/hub.js'
import { openClient } from '../helpers/ws.js'

describe('liveness', () => {
  it('closes a peer that stops answering pings within the idle timeout, and keeps a healthy one', async () => {
    const h = await startTestHub({ HUB_WS_IDLE_TIMEOUT_S: '8' })
    const dead = await openClient(h)
    const alive = await openClient(h)
    dead.send({ type: 'subscribe', id: '1', instances: '*' })
    alive.send({ type: 'subscribe', id: '1', instances: '*' })
    await dead.next((f) => f.type === 'snapshot')
    await alive.next((f) => f.type === 'snapshot')
    const started = Date.now()
    // The paused socket reads nothing, so the hub's pings go unanswered.
    ;(dead.ws as any)._socket.pause()
    const subscribers = () => h.http.app.numSubscribers(`a:${h.hub.accounts()[0]!.id}`)
    expect(subscribers()).toBe(2)
    while (subscribers() === 2 && Date.now() - started < 25_000) await new Promise((r) => setTimeout(r, 100))
    const closedAt = Date.now()
    expect(subscribers()).toBe(1)
    const waited = closedAt - started
    expect(waited).toBeGreaterThan(4_000)
    expect(waited).toBeLessThan(20_000)
    alive.send({ type: 'ping', id: 'still' })
    expect(await alive.next((f) => f.type === 'pong')).toEqual({ type: 'pong', id: 'still' })
    await alive.close()
    await h.stop()
  }, 30_000)
})
