import { describe, expect, it } from 'vitest'
import { startTestHub } from '../helpers/hub.js'
import { until } from '../helpers/wait.js'
import { openClient } from '../helpers/ws.js'

// uWS keeps the idle timer natively (8 s is its minimum): this waits for it in real time, but only
// on conditions, never on a window of wall-clock time.
describe('liveness', () => {
  it('pings idle sockets, closes the peer that stops answering, and keeps the one that answers', async () => {
    const h = await startTestHub({ HUB_WS_IDLE_TIMEOUT_S: '8' })
    const dead = await openClient(h)
    const alive = await openClient(h)
    let pings = 0
    alive.ws.on('ping', () => pings++)
    dead.send({ type: 'subscribe', id: '1', instances: '*' })
    alive.send({ type: 'subscribe', id: '1', instances: '*' })
    await dead.next((f) => f.type === 'snapshot')
    await alive.next((f) => f.type === 'snapshot')
    // The paused socket reads nothing, so the hub's pings go unanswered.
    ;(dead.ws as any)._socket.pause()
    const subscribers = () => h.http.app.numSubscribers(`a:${h.hub.accounts()[0]!.id}`)
    expect(subscribers()).toBe(2)
    await until(() => subscribers() === 1, { what: 'the silent peer to be closed', ms: 25_000 })
    expect(pings).toBeGreaterThan(0)
    alive.send({ type: 'ping', id: 'still' })
    expect(await alive.next((f) => f.type === 'pong')).toEqual({ type: 'pong', id: 'still' })
    await alive.close()
    await h.stop()
  }, 30_000)
})
