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
    // Not exact, by uWS's timers: with an 8 s idle timeout it splits the time into a 4 s wait and
    // a 4 s ping timeout, checked on a 4 s tick: a silent socket is pinged at the tick that ends
    // its wait and closed one tick after an unanswered ping. Both sockets fell silent within one
    // tick (their subscribes were answered back to back), so the live one was pinged (and
    // answered) when the silent one was; the tick that closes the silent one pings the live one
    // again, and whether that ping has reached the client when the close is seen is a race.
    expect(pings).toBeGreaterThanOrEqual(1)
    expect(pings).toBeLessThanOrEqual(2)
    alive.send({ type: 'ping', id: 'still' })
    expect(await alive.next((f) => f.type === 'pong')).toEqual({ type: 'pong', id: 'still' })
    await alive.close()
    await h.stop()
  }, 30_000)
})
