/**
 * The WebSocket fuzz phases against a hub process: generated frames over real clients (`ws`),
 * protocol violations over raw sockets, connect/drop storms, and never-reading subscribers while
 * changes flow. Each phase returns what it saw; the tests assert on it.
 */
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import fc from 'fast-check'
import WebSocket from 'ws'
import { frame, rawConnect, text } from './raw-ws.js'
import { frameProblem, wsFrames } from './ws-cases.js'

export interface WsFuzzStats {
  frames: number
  received: number
  byType: Record<string, number>
  closes: Record<string, number>
  problems: string[]
  problemCount: number
}

function problem(s: WsFuzzStats, p: string): void {
  s.problemCount++
  if (s.problems.length < 50) s.problems.push(p)
}

/** `sockets` clients each send their share of `total` generated frames, 100 at a time, each batch closed by a ping that must be answered. */
export async function fuzzFrames(port: number, token: string, o: { total: number; sockets: number; seed: number; stats?: WsFuzzStats }): Promise<WsFuzzStats> {
  const s: WsFuzzStats = o.stats ?? { frames: 0, received: 0, byType: {}, closes: {}, problems: [], problemCount: 0 }
  const per = Math.ceil(o.total / o.sockets)
  await Promise.all(
    Array.from({ length: o.sockets }, async (_, k) => {
      const frames = fc.sample(wsFrames, { numRuns: per, seed: o.seed + k })
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { token }, maxPayload: 64 * 1024 * 1024 })
      const waiting = new Map<string, () => void>()
      let closed: { code: number } | null = null
      ws.on('message', (data) => {
        const t = data.toString()
        s.received++
        const p = frameProblem(t)
        if (p !== null) return problem(s, p)
        const f = JSON.parse(t)
        s.byType[f.type] = (s.byType[f.type] ?? 0) + 1
        if (f.type === 'pong' && waiting.has(f.id)) {
          waiting.get(f.id)!()
          waiting.delete(f.id)
        }
      })
      const done = new Promise<void>((resolve) =>
        ws.on('close', (code) => {
          closed = { code }
          s.closes[code] = (s.closes[code] ?? 0) + 1
          for (const w of waiting.values()) w()
          resolve()
        }),
      )
      ws.on('error', (err) => problem(s, `socket ${k}: ${err.message}`))
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve())
        ws.once('unexpected-response', (_q, r) => reject(new Error(`upgrade refused: ${r.statusCode}`)))
      })
      for (let i = 0; i < frames.length && closed === null; i += 100) {
        for (const f of frames.slice(i, i + 100)) {
          ws.send(f)
          s.frames++
        }
        const id = `sync-${k}-${i}`
        const answered = new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), 10_000)
          waiting.set(id, () => {
            clearTimeout(t)
            resolve(true)
          })
        })
        ws.send(JSON.stringify({ type: 'ping', id }))
        s.frames++
        if (!(await answered) && closed === null) {
          problem(s, `socket ${k}: no pong within 10 s after frame ${i}`)
          break
        }
      }
      if (closed !== null) problem(s, `socket ${k} closed by the hub with ${(closed as { code: number }).code}`)
      ws.close()
      await done
    }),
  )
  return s
}

export interface Violation {
  name: string
  /** The bytes written after the handshake. */
  bytes: () => Buffer
}

const ping = text('{"type":"ping","id":"after"}')

export const VIOLATIONS: Violation[] = [
  { name: 'unmasked text frame', bytes: () => frame(Buffer.from('{"type":"ping"}'), { opcode: 1, mask: false }) },
  { name: 'RSV1 set without an extension', bytes: () => frame(Buffer.from('{"type":"ping"}'), { opcode: 1, rsv: 4 }) },
  { name: 'RSV2 and RSV3 set', bytes: () => frame(Buffer.from('{"type":"ping"}'), { opcode: 1, rsv: 3 }) },
  { name: 'reserved data opcode', bytes: () => frame(randomBytes(20), { opcode: 3 + Math.floor(Math.random() * 5) }) },
  { name: 'reserved control opcode', bytes: () => frame(randomBytes(5), { opcode: 0xb + Math.floor(Math.random() * 5) }) },
  { name: 'continuation without a start', bytes: () => frame(Buffer.from('{"type":"ping"}'), { opcode: 0 }) },
  { name: 'control frame over 125 bytes', bytes: () => frame(randomBytes(126 + Math.floor(Math.random() * 200)), { opcode: 9 }) },
  { name: 'fragmented ping', bytes: () => frame(Buffer.from('abc'), { opcode: 9, fin: false }) },
  { name: 'text frame of invalid UTF-8', bytes: () => text(Buffer.concat([Buffer.from('{"type":"ping","id":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('"}')])) },
  { name: 'binary frame', bytes: () => frame(Buffer.from('{"type":"ping","id":"bin"}'), { opcode: 2 }) },
  { name: 'length of 2^63 - 1', bytes: () => frame(Buffer.from('x'), { opcode: 1, length: 2n ** 63n - 1n }) },
  { name: 'length longer than the bytes sent, then end of stream', bytes: () => frame(Buffer.from('{"type":'), { opcode: 1, length: 1000n }) },
  { name: 'close with an invalid code', bytes: () => frame(Buffer.from([0x03, 0xe7]), { opcode: 8 }) },
  { name: 'close with a one-byte payload', bytes: () => frame(Buffer.from([0x03]), { opcode: 8 }) },
  { name: 'a new text frame inside a fragmented one', bytes: () => Buffer.concat([frame(Buffer.from('{"type":'), { opcode: 1, fin: false }), text('{"type":"ping"}')]) },
  { name: 'frame over HUB_WS_MAX_FRAME_BYTES', bytes: () => text(JSON.stringify({ type: 'ping', pad: 'x'.repeat(20_000) })) },
  { name: 'frame past the transport cap', bytes: () => text(JSON.stringify({ type: 'ping', pad: 'x'.repeat(200_000) })) },
  { name: 'garbage after the handshake', bytes: () => randomBytes(64 + Math.floor(Math.random() * 512)) },
]

export interface ViolationOutcome {
  name: string
  /** How many ended with the hub closing, and how many with the hub still answering a ping. */
  closed: number
  served: number
  hung: number
  codes: Record<string, number>
  problems: string[]
}

/** Each violation `times` times on a fresh raw socket; afterwards the hub must close it or still answer. */
export async function fuzzViolations(port: number, token: string, times: number): Promise<ViolationOutcome[]> {
  const out: ViolationOutcome[] = []
  for (const v of VIOLATIONS) {
    const o: ViolationOutcome = { name: v.name, closed: 0, served: 0, hung: 0, codes: {}, problems: [] }
    await Promise.all(
      Array.from({ length: times }, async () => {
        const r = await rawConnect(port, token)
        r.write(v.bytes())
        if (v.name.includes('then end of stream')) r.socket.end()
        else r.write(ping)
        const outcome = await Promise.race([
          r.closed.then(() => 'closed' as const),
          new Promise<'served'>((resolve) => {
            const t = setInterval(() => {
              if (r.texts.some((x) => x.includes('"after"'))) {
                clearInterval(t)
                resolve('served')
              }
            }, 10)
            r.closed.then(() => clearInterval(t))
          }),
          new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000)),
        ])
        o[outcome]++
        if (outcome === 'closed') o.codes[String(r.closeCode ?? 'none')] = (o.codes[String(r.closeCode ?? 'none')] ?? 0) + 1
        for (const t of r.texts) {
          const p = frameProblem(t)
          if (p !== null && o.problems.length < 5) o.problems.push(p)
        }
        r.socket.destroy()
      }),
    )
    out.push(o)
  }
  return out
}

/** `n` connections dropped at random points of their life: before, during and after the upgrade and the subscribe. */
export async function connectDropStorm(port: number, token: string, n: number, concurrency: number): Promise<Record<string, number>> {
  const stages = ['tcp', 'half-upgrade', 'upgraded', 'subscribed', 'closed-cleanly'] as const
  const counts: Record<string, number> = {}
  let next = 0
  const one = async () => {
    const stage = stages[next++ % stages.length]!
    counts[stage] = (counts[stage] ?? 0) + 1
    if (stage === 'tcp' || stage === 'half-upgrade') {
      await new Promise<void>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          if (stage === 'half-upgrade') s.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n`)
          s.destroy()
          resolve()
        })
        s.on('error', () => resolve())
      })
      return
    }
    const r = await rawConnect(port, token).catch(() => null)
    if (r === null) return
    if (stage !== 'upgraded') r.write(text('{"type":"subscribe","id":"s","instances":"*"}'))
    if (stage === 'closed-cleanly') r.write(frame(Buffer.from([0x03, 0xe8]), { opcode: 8 }))
    r.socket.destroy()
  }
  const workers = Array.from({ length: concurrency }, async () => {
    while (next < n) await one()
  })
  await Promise.all(workers)
  return counts
}

export interface SlowOutcome {
  /** Seqs the well-behaved subscriber received after its snapshot, the snapshot's seq, and the account's head at the end. */
  fromSeq: number
  seqs: number[]
  head: number
  /** How each never-reading socket ended once read again: closed by the hub (with its code) or still open. */
  slow: { closed: boolean; code: number | null }[]
  rssBefore: number
  rssPeak: number
}

/** How long uWS keeps a socket it ended whose close frame it cannot send: its ping timeout, at most 16 s. */
export const END_TIMEOUT_S = 16

/**
 * `slowSockets` subscribers that ask for `snapshots` snapshots each and never read, while
 * `changes` status changes flow through `change(i)`; one well-behaved subscriber reads everything.
 * The slow ones are read again once the reader has had `readAfterBytes` since they subscribed (or
 * when the changes end): their 4008 waits behind what the hub held for them, and uWS drops a
 * socket it ended that reads nothing for END_TIMEOUT_S, close frame and all.
 */
export async function neverReading(
  port: number,
  token: string,
  o: { slowSockets: number; snapshots: number; changes: number; readAfterBytes: number; change: (i: number) => Promise<unknown>; head: () => Promise<number>; rss: () => number },
): Promise<SlowOutcome> {
  const rssBefore = o.rss()
  let rssPeak = rssBefore
  const good = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { token } })
  const seqs: number[] = []
  let fromSeq = -1
  let bytes = 0
  let readAgain = () => {}
  good.on('message', (d) => {
    const f = JSON.parse(d.toString())
    if (f.type === 'snapshot') fromSeq = f.seq
    else if (f.type === 'diff') seqs.push(f.seq)
    bytes += (d as Buffer).length
    if (bytes >= o.readAfterBytes) readAgain()
  })
  await new Promise<void>((r) => good.once('open', () => r()))
  good.send(JSON.stringify({ type: 'subscribe', id: 'g', instances: '*' }))
  while (fromSeq < 0) await new Promise((r) => setTimeout(r, 5))
  const slow = await Promise.all(Array.from({ length: o.slowSockets }, () => rawConnect(port, token, { pause: true })))
  for (const s of slow) for (let i = 0; i < o.snapshots; i++) s.write(text(`{"type":"subscribe","id":"s${i}","instances":"*"}`))
  bytes = 0
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, o.rss())), 50)
  let ends: Promise<{ closed: boolean; code: number | null }[]> | null = null
  readAgain = () => {
    readAgain = () => {}
    ends = Promise.all(
      slow.map(async (s) => {
        s.socket.resume()
        const closed = await Promise.race([s.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))])
        s.socket.destroy()
        return { closed, code: s.closeCode }
      }),
    )
  }
  let next = 0
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < o.changes) await o.change(next++)
    }),
  )
  const head = await o.head()
  const deadline = Date.now() + 20_000
  while ((seqs.at(-1) ?? fromSeq) < head && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  clearInterval(sampler)
  rssPeak = Math.max(rssPeak, o.rss())
  readAgain()
  const slowEnds = await ends!
  good.close()
  return { fromSeq, seqs, head, slow: slowEnds, rssBefore, rssPeak }
}

/**
 * `sockets` subscribers that each send `subscribes` subscribe frames and never read: every answer
 * is a snapshot the hub must hold or refuse. Returns the hub's RSS growth at its peak and how the
 * sockets ended.
 */
export async function subscribeFlood(port: number, token: string, o: { sockets: number; subscribes: number; rss: () => number }): Promise<{ growth: number; closed: number; codes: Record<string, number> }> {
  const rss0 = o.rss()
  let peak = rss0
  const socks = await Promise.all(Array.from({ length: o.sockets }, () => rawConnect(port, token, { pause: true })))
  for (let i = 0; i < o.subscribes; i++) for (const s of socks) s.write(text(`{"type":"subscribe","id":"f${i}","instances":"*"}`))
  for (let k = 0; k < 40; k++) {
    await new Promise((r) => setTimeout(r, 100))
    peak = Math.max(peak, o.rss())
  }
  const codes: Record<string, number> = {}
  let closed = 0
  // All at once: uWS drops a socket it ended that reads nothing for END_TIMEOUT_S, close frame and all.
  await Promise.all(
    socks.map(async (s) => {
      s.socket.resume()
      const c = await Promise.race([s.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))])
      if (c) {
        closed++
        codes[String(s.closeCode)] = (codes[String(s.closeCode)] ?? 0) + 1
      }
      s.socket.destroy()
    }),
  )
  return { growth: peak - rss0, closed, codes }
}
