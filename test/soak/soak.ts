/**
 * The soak: a hub process with simulated instances that flap (drops that reconnect, presence,
 * profile changes, instances created and deleted), StatusClients behind relays that are cut
 * (the clients reconnect and resume) or stop reading (slow consumers: 4008 for ordered ones,
 * folding for latest ones), for a bounded time. Then the changes stop, and every client's mirror
 * must equal the REST list, and the hub's heap after a full collection must be back near its start.
 */
import { readFileSync } from 'node:fs'
import { WebSocket } from 'ws'
import { StatusClient, type ClientEvent } from '../../src/client/index.js'
import { heapAfterGc } from '../helpers/heap.js'
import { tempDir } from '../helpers/hub.js'
import { call, PROC_ADMIN, spawnHub } from '../helpers/hub-process.js'
import { until } from '../helpers/wait.js'
import { soakRelay } from './relay.js'

export interface SoakOptions {
  seconds: number
  flappers: number
  relays: number
  clientsPerRelay: number
  seed: number
  log?: (line: string) => void
}

export interface SoakReport {
  changes: number
  seqEnd: number
  cuts: number
  holds: number
  events: Record<string, number>
  closeCodes: Record<string, number>
  /** Clients whose mirror differs from the list once the changes stopped (names, first difference). */
  mismatched: { client: number; mode: string; instances: string; detail: string }[]
  heapStart: number
  heapEnd: number
  rssStart: number
  rssEnd: number
  rssPeak: number
}

function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function soak(o: SoakOptions): Promise<SoakReport> {
  const random = rng(o.seed)
  const log = o.log ?? (() => {})
  const hub = spawnHub(tempDir(), { HUB_WHATSAPP: 'simulated' }, { inspect: true })
  const port = (await hub.listening())!
  const rss = () => {
    try {
      return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${hub.pid}/status`, 'utf8'))![1]) * 1024
    } catch {
      return 0
    }
  }
  try {
    const account = await call(port, 'POST', '/api/admin/accounts', PROC_ADMIN, { name: 'soak', instanceLimit: 1000 })
    const token = account.json.token as string
    const flappers = Array.from({ length: o.flappers }, (_, i) => `flap-${i}`)
    for (const name of flappers) {
      await call(port, 'POST', '/api/instance/new', token, { name, keepOnlineStatus: random() < 0.5 })
      await call(port, 'GET', `/api/instance/connect/${name}`, token)
      await call(port, 'POST', `/api/sim/${name}/scan`, token)
    }
    await until(async () => (await call(port, 'GET', '/api/instance/list', token)).json.instances.every((i: any) => i.status === 'connected'), { what: 'flappers connected', ms: 30_000 })

    const relays = await Promise.all(Array.from({ length: o.relays }, () => soakRelay(port)))
    const events: Record<string, number> = {}
    const closeCodes: Record<string, number> = {}
    const clients = relays.flatMap((r, ri) =>
      Array.from({ length: o.clientsPerRelay }, (_, k) => {
        const n = ri * o.clientsPerRelay + k
        const mode = n % 2 === 0 ? ('ordered' as const) : ('latest' as const)
        const instances = n % 3 === 2 ? flappers.filter((_, i) => i % 4 === n % 4) : ('*' as const)
        const c = new StatusClient({
          url: `ws://127.0.0.1:${r.port}/ws`,
          token,
          WebSocket: WebSocket as never,
          mode,
          instances,
          backoff: { baseMs: 20, maxMs: 500 },
          // A client that stopped reading does not notice the silence either.
          heartbeatMs: ri === 0 ? 0 : 5000,
          onEvent: (e: ClientEvent) => {
            const kind = e.type === 'state' ? `state:${e.state}` : e.type
            events[kind] = (events[kind] ?? 0) + 1
            if (e.type === 'state' && e.code !== null) closeCodes[`${ri === 0 ? 'stalled' : 'other'}:${e.code}`] = (closeCodes[`${ri === 0 ? 'stalled' : 'other'}:${e.code}`] ?? 0) + 1
          },
        })
        c.start()
        return { c, mode, instances }
      }),
    )
    await until(() => clients.every((x) => x.c.state === 'open'), { what: 'every client open', ms: 30_000 })
    const heapStart = (await heapAfterGc(hub)).heapUsed
    const rssStart = rss()
    let rssPeak = rssStart

    const end = Date.now() + o.seconds * 1000
    let changes = 0
    let cuts = 0
    let holds = 0
    const temps: string[] = []
    let nextTemp = 0
    const flapping = Array.from({ length: 8 }, async () => {
      while (Date.now() < end) {
        const name = flappers[Math.floor(random() * flappers.length)]!
        const roll = random()
        const r =
          roll < 0.55
            ? await call(port, 'POST', `/api/sim/${name}/profile`, token, {
                name: `p${Math.floor(random() * 1e6)}${'n'.repeat(200)}`,
                businessName: `b${Math.floor(random() * 1e6)}${'b'.repeat(200)}`,
                pictureUrl: `https://pps.example.test/${'p'.repeat(1000 + Math.floor(random() * 1000))}.jpg`,
              })
            : roll < 0.8
              ? await call(port, 'POST', `/api/sim/${name}/online`, token, { online: random() < 0.5 })
              : roll < 0.95
                ? await call(port, 'POST', `/api/sim/${name}/close`, token, { code: random() < 0.5 ? 428 : 408, message: 'Connection Lost' })
                : roll < 0.96
                  ? await call(port, 'POST', '/api/instance/new', token, { name: `temp-${nextTemp++}` }).then((x) => {
                    if (x.status === 201) temps.push(x.json.instance.name)
                    return x
                  })
                  : await (temps.length > 0 ? call(port, 'DELETE', `/api/instance/delete/${temps.shift()}`, token) : call(port, 'GET', '/healthz', token))
        if (r.status === 200 || r.status === 201) changes++
      }
    })
    // Relay 0's clients stop reading for the middle 60 % of the run, each time shortly after they
    // connect: their unread frames fill the kernel's socket buffers (about 4 MB here) and then the
    // hub's bound, where ordered ones get 4008 (and resume through the stalled relay again) and
    // latest ones fold. The other relays are cut or held briefly at random.
    const stalls = (async () => {
      await sleep(o.seconds * 100)
      relays[0]!.drop()
      relays[0]!.stall(true)
      holds++
      await sleep(o.seconds * 600)
      relays[0]!.stall(false)
    })()
    const chaos = (async () => {
      for (let turn = 0; Date.now() < end; turn++) {
        await sleep(200 + random() * 800)
        const r = relays[1 + Math.floor(random() * (relays.length - 1))]!
        // Cuts and short stalls take turns, so even a short run has both.
        if (turn % 2 === 0) {
          r.drop()
          cuts++
        } else {
          r.stall(true)
          holds++
          await sleep(300 + random() * 3000)
          r.stall(false)
        }
        rssPeak = Math.max(rssPeak, rss())
      }
    })()
    let lastLog = Date.now()
    while (Date.now() < end) {
      await sleep(500)
      rssPeak = Math.max(rssPeak, rss())
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now()
        log(`soak: ${changes} changes, ${cuts} cuts, ${holds} holds; events ${JSON.stringify(events)}; RSS ${(rss() / 1048576).toFixed(0)} MB`)
      }
    }
    await Promise.all([...flapping, chaos, stalls])
    for (const r of relays) r.stall(false)

    // Quiet: the simulated reconnects settle, then every mirror must match the list.
    const listed = async () => {
      const r = await fetch(`http://127.0.0.1:${port}/api/instance/list`, { headers: { token } })
      const body = (await r.json()) as { instances: any[] }
      return { seq: Number(r.headers.get('x-hub-seq')), items: body.instances }
    }
    let head = -1
    await until(
      async () => {
        const l = await listed()
        const settled = l.seq === head
        head = l.seq
        return settled
      },
      { what: 'the hub to stop changing', ms: 30_000 },
    )
    const { items } = await listed()
    const mismatch = (x: (typeof clients)[number]) => {
      const want = Object.fromEntries(items.filter((i) => x.instances === '*' || x.instances.includes(i.name)).map((i) => [i.name, i]))
      const got = Object.fromEntries(x.c.mirror)
      const a = JSON.stringify(Object.keys(want).sort())
      const b = JSON.stringify(Object.keys(got).sort())
      if (a !== b) return `names ${b} instead of ${a}`
      for (const name of Object.keys(want)) if (JSON.stringify(want[name]) !== JSON.stringify(got[name])) return `${name}: ${JSON.stringify(got[name]).slice(0, 200)} instead of ${JSON.stringify(want[name]).slice(0, 200)}`
      return null
    }
    await until(() => clients.every((x) => x.c.state === 'open' && mismatch(x) === null), { what: 'every mirror equal to the list', ms: 30_000 }).catch(() => {})
    const mismatched = clients.flatMap((x, i) => {
      const d = x.c.state === 'open' ? mismatch(x) : `state ${x.c.state}`
      return d === null ? [] : [{ client: i, mode: x.mode, instances: x.instances === '*' ? '*' : x.instances.join(','), detail: d }]
    })
    for (const x of clients) x.c.stop()
    await Promise.all(relays.map((r) => r.close()))
    await sleep(500)
    const heapEnd = (await heapAfterGc(hub)).heapUsed
    return { changes, seqEnd: head, cuts, holds, events, closeCodes, mismatched, heapStart, heapEnd, rssStart, rssEnd: rss(), rssPeak }
  } finally {
    await hub.stop()
  }
}
