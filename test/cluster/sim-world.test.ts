/**
 * The simulated WhatsApp's shared world over a real nats-server: two nodes' worlds see one
 * number's sockets as WhatsApp does. Each world's clock is the test's, so an overlap's length is
 * exact; the beats themselves run on real one-second timers.
 */
import { Kvm } from '@nats-io/kv'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KvSimWorld } from '../../src/adapters/nats/sim-world.js'
import { startNatsServer, type NatsServer } from '../helpers/nats.js'
import { until } from '../helpers/wait.js'
import { silentLog } from '../whatsapp/helpers.js'

let nats: NatsServer
const conns: NatsConnection[] = []
const worlds: KvSimWorld[] = []

beforeAll(async () => {
  nats = await startNatsServer()
})

afterAll(async () => {
  for (const w of worlds) w.stop()
  for (const nc of conns) await nc.close()
  await nats?.dispose()
})

async function world(node: string, clock: { t: number }): Promise<KvSimWorld> {
  const nc = await connect({ servers: nats.url })
  conns.push(nc)
  const w = new KvSimWorld(nc, { node, marginMs: 2000, now: () => clock.t, log: silentLog })
  await w.start()
  worlds.push(w)
  return w
}

/** Which socket the engine holds as instance `id`'s live one (the world's `l.<id>` entry), or null. */
async function liveSocket(id: number): Promise<string | null> {
  const e = await (await new Kvm(conns[0]!).open('sh_sim')).get(`l.${id}`)
  return e === null || e.operation !== 'PUT' ? null : (JSON.parse(e.string()) as { sock: string }).sock
}

function events() {
  const seen: string[] = []
  return { seen, on: { replaced: () => seen.push('replaced'), dead: () => seen.push('dead') } }
}

describe('the simulated world shared by a cluster', () => {
  it('closes the older socket when the number logs in on another node, and counts no conflict when it goes at its next beat', async () => {
    const clock = { t: 1_000_000 }
    const [a, b] = [await world('a', clock), await world('b', clock)]
    const older = events()
    const newer = events()
    a.open(1, 'sock-a', older.on)
    await until(async () => (await liveSocket(1)) === 'sock-a', 'the first login written')
    clock.t += 100
    b.open(1, 'sock-b', newer.on)
    clock.t += 500
    await until(() => older.seen.length > 0, { what: 'the older socket replaced', ms: 5000 })
    expect(older.seen).toEqual(['replaced'])
    expect(newer.seen).toEqual([])
    expect(await b.conflicts()).toBe(0)
  })

  it('counts a conflict when the older socket was still live more than the margin after the newer one logged in', async () => {
    const clock = { t: 2_000_000 }
    const [a, b] = [await world('a', clock), await world('b', clock)]
    const older = events()
    a.open(2, 'sock-a', older.on)
    await until(async () => (await liveSocket(2)) === 'sock-a', 'the first login written')
    b.open(2, 'sock-b', events().on)
    const before = await a.conflicts()
    // The older's next beat comes 2.5 s after the newer's login, within its own 3 s of life.
    clock.t += 2500
    await until(() => older.seen.length > 0, { what: 'the older socket replaced', ms: 5000 })
    expect(older.seen).toEqual(['replaced'])
    expect((await a.conflicts()) - before).toBe(1)
    expect((await b.conflicts()) - before).toBe(1)
  })

  it('ends a socket whose node went unheartbeated past 3 s (paused, or cut from the engine)', async () => {
    const clock = { t: 3_000_000 }
    const a = await world('a', clock)
    const s = events()
    a.open(3, 'sock-a', s.on)
    clock.t += 3001
    await until(() => s.seen.length > 0, { what: 'the socket found dead', ms: 5000 })
    expect(s.seen).toEqual(['dead'])
  })
})
