/**
 * A StatusClient on a test hub, recording its events, a relay a test can cut, and the REST list.
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net'
import { WebSocket } from 'ws'
import { StatusClient, type ClientEvent, type StatusClientOptions } from '../../src/client/index.js'
import type { TestHub } from '../helpers/hub.js'

export interface Recorded {
  c: StatusClient
  events: ClientEvent[]
  /** `type` of every event, with the state for state events (`state:open`). */
  kinds(): string[]
}

export function clientFor(h: { port: number; token: string }, opts: Partial<StatusClientOptions> = {}): Recorded {
  const events: ClientEvent[] = []
  const c = new StatusClient({
    url: `ws://127.0.0.1:${h.port}/ws`,
    token: h.token,
    WebSocket,
    backoff: { baseMs: 20, maxMs: 200 },
    onEvent: (e) => events.push(e),
    ...opts,
  })
  return { c, events, kinds: () => events.map((e) => (e.type === 'state' ? `state:${e.state}` : e.type)) }
}

export { until } from '../helpers/wait.js'

/** The REST list, keyed by name, and the position it reflects. */
export async function restList(h: TestHub): Promise<{ items: Record<string, unknown>; seq: number; epoch: string }> {
  const r = await h.req('GET', '/api/instance/list')
  if (r.status !== 200) throw new Error(`list: ${r.status} ${r.text}`)
  const items: Record<string, unknown> = {}
  for (const it of r.json.instances) items[it.name] = it
  return { items, seq: Number(r.headers.get('x-hub-seq')), epoch: r.headers.get('x-hub-epoch') ?? '' }
}

export function mirrorObject(c: StatusClient): Record<string, unknown> {
  return Object.fromEntries(c.mirror)
}

/**
 * A TCP relay on a fixed port to whichever hub is current, so a client keeps one URL across hub
 * restarts. (The hub cannot listen again on its old port while its closed connections sit in
 * TIME_WAIT, for up to 60 s.) With no hub, connections are refused as by a stopped server.
 */
export async function relay(): Promise<{ port: number; target(port: number | null): void; hold(on: boolean): void; drop(): void; close(): Promise<void> }> {
  let upstream: number | null = null
  const open = new Set<Socket>()
  const pairs = new Set<{ up: Socket; down: Socket }>()
  const server = createServer((down) => {
    open.add(down)
    down.on('close', () => open.delete(down))
    if (upstream === null) return void down.destroy()
    const up = connect(upstream, '127.0.0.1')
    open.add(up)
    up.on('close', () => open.delete(up))
    down.pipe(up)
    up.pipe(down)
    const pair = { up, down }
    pairs.add(pair)
    up.on('close', () => pairs.delete(pair))
    up.on('error', () => down.destroy())
    down.on('error', () => up.destroy())
    up.on('close', () => down.destroy())
    down.on('close', () => up.destroy())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    target(port) {
      upstream = port
    },
    /** Cuts every open connection, like a network blip. */
    drop() {
      for (const s of open) s.destroy()
    },
    /** Stops (or restarts) reading from the hub, like a client that stopped reading its socket. */
    hold(on) {
      for (const { up, down } of pairs) {
        if (on) {
          up.unpipe(down)
          up.pause()
        } else {
          up.pipe(down)
        }
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy()
        server.close(() => r())
      }),
  }
}
