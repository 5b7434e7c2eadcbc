/**
 * @module The fan-out load generator, as its own process on the other core: thousands of raw
 * WebSocket connections over `net.Socket` that upgrade, send one subscribe frame and then only
 * walk frame headers (the cheapest possible counting, so the client is not the bottleneck).
 * About 20 connections spread over the connection order also assemble payloads and read the
 * stamp the hub put in each change, for end-to-end latency. For the resume storm every
 * connection keeps the first bytes of its last frame, enough to read `type` and `seq`.
 *
 * Commands: `connect`, `mark`, `drop`, `resume`, `close`, `exit` (see the handlers).
 */
import { randomBytes } from 'node:crypto'
import { connect as tcpConnect, type Socket } from 'node:net'
import { STAMP_MARKER } from './fixture.js'
import { monoMs } from './lib/clock.js'
import { openFileLimit, sendReady, serveRequests } from './lib/proc.js'
import { percentile } from './lib/stats.js'

/** Bytes of each frame kept for `type` and `seq`: both sit in the first ~60 bytes of a frame. */
const HEAD = 96
const SEQ = Buffer.from('"seq":')
const STAMP = Buffer.from(STAMP_MARKER)
const CRLF2 = Buffer.from('\r\n\r\n')
const READ_BUFFER = Buffer.alloc(256 * 1024)

interface Conn {
  index: number
  sock: Socket | null
  /** Handshake bytes until the 101 arrives; null once upgraded. */
  hs: Buffer | null
  hdr: Buffer
  hdrLen: number
  remaining: number
  opcode: number
  /** Payload pieces of the current frame, when it is assembled (sampled sockets, control frames). */
  parts: Buffer[] | null
  sampled: boolean
  track: boolean
  head: Buffer
  headLen: number
  lastHead: Buffer
  lastHeadLen: number
  gotFirst: boolean
  firstKind: string
  onFirst: ((ok: boolean, why?: string) => void) | null
  resuming: boolean
  recoveredAt: number
  kind: 'resumed' | 'snapshot' | null
  lastSeq: number
}

const g = {
  frames: 0,
  bytes: 0,
  lat: [] as number[],
  closes: {} as Record<string, number>,
  open: 0,
}

let conns: Conn[] = []
let control: Conn | null = null
let resume: { target: number; start: number; left: number; done: (() => void) | null; times: number[] } | null = null

function newConn(index: number, sampled: boolean, track: boolean): Conn {
  return {
    index,
    sock: null,
    hs: null,
    hdr: Buffer.alloc(14),
    hdrLen: 0,
    remaining: 0,
    opcode: 0,
    parts: null,
    sampled,
    track,
    head: Buffer.alloc(HEAD),
    headLen: 0,
    lastHead: Buffer.alloc(HEAD),
    lastHeadLen: 0,
    gotFirst: false,
    firstKind: '',
    onFirst: null,
    resuming: false,
    recoveredAt: 0,
    kind: null,
    lastSeq: -1,
  }
}

/** A masked client frame (RFC 6455 requires clients to mask). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length
  const ext = len < 126 ? 0 : 2
  const out = Buffer.allocUnsafe(2 + ext + 4 + len)
  out[0] = 0x80 | opcode
  if (ext === 0) out[1] = 0x80 | len
  else {
    out[1] = 0x80 | 126
    out.writeUInt16BE(len, 2)
  }
  const mask = randomBytes(4)
  mask.copy(out, 2 + ext)
  for (let i = 0; i < len; i++) out[2 + ext + 4 + i] = payload[i]! ^ mask[i & 3]!
  return out
}

function seqOf(buf: Buffer, len: number): number {
  const at = buf.subarray(0, len).indexOf(SEQ)
  if (at < 0) return -1
  let n = 0
  let i = at + SEQ.length
  let any = false
  for (; i < len; i++) {
    const ch = buf[i]!
    if (ch < 48 || ch > 57) break
    n = n * 10 + (ch - 48)
    any = true
  }
  return any ? n : -1
}

/** The frame type from its first bytes: `{"type":"` is 9 bytes long. */
function kindOf(buf: Buffer, len: number): string {
  if (len < 12) return ''
  const end = buf.indexOf(34, 9)
  return buf.toString('latin1', 9, end < 0 ? Math.min(len, 20) : end)
}

function frameDone(c: Conn, now: number): void {
  const op = c.opcode
  const parts = c.parts
  c.parts = null
  if (op === 1 || op === 2) {
    g.frames++
    if (c.sampled && parts !== null) {
      const payload = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
      const at = payload.indexOf(STAMP)
      if (at >= 0) {
        const t = parseFloat(payload.toString('latin1', at + STAMP.length, at + STAMP.length + 24))
        if (Number.isFinite(t)) g.lat.push(now - t)
      }
    }
    if (c.track || !c.gotFirst) {
      const h = c.lastHead
      c.lastHead = c.head
      c.head = h
      c.lastHeadLen = c.headLen
    }
    if (!c.gotFirst) {
      c.gotFirst = true
      c.firstKind = kindOf(c.lastHead, c.lastHeadLen)
      const cb = c.onFirst
      c.onFirst = null
      cb?.(c.firstKind !== 'error', c.firstKind === 'error' ? c.lastHead.toString('utf8', 0, c.lastHeadLen) : undefined)
    }
    if (c.resuming) checkResume(c, now)
  } else if (op === 8) {
    const payload = parts === null ? Buffer.alloc(0) : Buffer.concat(parts)
    const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005
    g.closes[code] = (g.closes[code] ?? 0) + 1
  } else if (op === 9 && c.sock !== null) {
    c.sock.write(clientFrame(0x0a, parts === null ? Buffer.alloc(0) : Buffer.concat(parts)))
  }
}

function checkResume(c: Conn, now: number): void {
  if (c.kind === null) {
    const k = kindOf(c.lastHead, c.lastHeadLen)
    if (k === 'resumed' || k === 'snapshot') c.kind = k
    else return
  }
  const seq = seqOf(c.lastHead, c.lastHeadLen)
  if (resume !== null && seq >= resume.target) {
    c.resuming = false
    c.recoveredAt = now
    resume.times.push(now - resume.start)
    if (--resume.left === 0) resume.done?.()
  }
}

function onFrames(c: Conn, chunk: Buffer): void {
  const now = c.sampled || c.resuming || !c.gotFirst ? monoMs() : 0
  const len = chunk.length
  let off = 0
  while (off < len) {
    if (c.remaining > 0) {
      const take = c.remaining < len - off ? c.remaining : len - off
      if (c.parts !== null) c.parts.push(Buffer.from(chunk.subarray(off, off + take)))
      if (c.headLen < HEAD && (c.track || !c.gotFirst)) {
        const n = Math.min(HEAD - c.headLen, take)
        chunk.copy(c.head, c.headLen, off, off + n)
        c.headLen += n
      }
      off += take
      c.remaining -= take
      if (c.remaining === 0) frameDone(c, now)
      continue
    }
    // Frame header: 2 bytes, plus 2 or 8 of extended length (servers never mask).
    let hdr: Buffer
    let base: number
    if (c.hdrLen === 0 && len - off >= 2) {
      const b1 = chunk[off + 1]! & 0x7f
      const need = b1 < 126 ? 2 : b1 === 126 ? 4 : 10
      if (len - off >= need) {
        hdr = chunk
        base = off
        off += need
      } else {
        chunk.copy(c.hdr, 0, off, len)
        c.hdrLen = len - off
        return
      }
    } else {
      const want = c.hdrLen < 2 ? 2 : (c.hdr[1]! & 0x7f) < 126 ? 2 : (c.hdr[1]! & 0x7f) === 126 ? 4 : 10
      const n = Math.min(want - c.hdrLen, len - off)
      chunk.copy(c.hdr, c.hdrLen, off, off + n)
      c.hdrLen += n
      off += n
      if (c.hdrLen < want) continue
      if (want === 2 && (c.hdr[1]! & 0x7f) >= 126) continue
      hdr = c.hdr
      base = 0
      c.hdrLen = 0
    }
    const b1 = hdr[base + 1]! & 0x7f
    const payloadLen = b1 < 126 ? b1 : b1 === 126 ? hdr.readUInt16BE(base + 2) : Number(hdr.readBigUInt64BE(base + 2))
    c.opcode = hdr[base]! & 0x0f
    c.remaining = payloadLen
    c.headLen = 0
    c.parts = c.sampled || c.opcode >= 8 ? [] : null
    g.bytes += payloadLen
    if (payloadLen === 0) frameDone(c, now)
  }
}

interface OpenOptions {
  port: number
  path: string
  token: string
  frame: (c: Conn) => string
}

/** Opens one connection; resolves when its first frame (snapshot, resumed or ack) arrives. */
function openConn(c: Conn, o: OpenOptions): Promise<string | null> {
  return new Promise((resolve) => {
    let settled = false
    const settle = (why: string | null) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(why)
    }
    const timer = setTimeout(() => {
      settle('timeout')
      c.sock?.destroy()
    }, 30_000)
    // `onread` with one shared buffer skips the stream machinery and a Buffer per read; the parser
    // copies whatever it keeps past the callback.
    const sock: Socket = tcpConnect({
      host: '127.0.0.1',
      port: o.port,
      onread: { buffer: READ_BUFFER, callback: (n: number): boolean => onRead(c, sock, READ_BUFFER.subarray(0, n)) },
    })
    c.sock = sock
    c.hs = Buffer.alloc(0)
    c.hdrLen = 0
    c.remaining = 0
    c.parts = null
    c.gotFirst = false
    c.onFirst = (ok, why) => settle(ok ? null : `error frame: ${why}`)
    sock.setNoDelay(true)
    sock.on('connect', () => {
      g.open++
      sock.write(
        `GET ${o.path} HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\ntoken: ${o.token}\r\n\r\n`,
      )
    })
    const onRead = (conn: Conn, s: Socket, chunk: Buffer): boolean => {
      if (conn.hs !== null) {
        const all = Buffer.concat([conn.hs, chunk])
        const end = all.indexOf(CRLF2)
        if (end < 0) {
          conn.hs = all
          return true
        }
        const status = all.toString('latin1', 9, 12)
        conn.hs = null
        if (status !== '101') {
          settle(`HTTP ${status}`)
          s.destroy()
          return false
        }
        s.write(clientFrame(0x01, Buffer.from(o.frame(conn))))
        if (all.length > end + 4) onFrames(conn, all.subarray(end + 4))
        return true
      }
      onFrames(conn, chunk)
      return true
    }
    sock.on('error', () => {})
    sock.on('close', () => {
      if (c.sock === sock) {
        c.sock = null
        g.open--
      }
      settle('closed')
    })
  })
}

/** Opens connections with at most `concurrency` handshakes in flight. */
async function openAll(
  list: Conn[],
  o: OpenOptions,
  concurrency: number,
  onFail: (c: Conn) => void = () => {},
): Promise<{ failed: number; failures: Record<string, number> }> {
  const failures: Record<string, number> = {}
  let failed = 0
  let next = 0
  const lane = async () => {
    while (next < list.length) {
      const c = list[next++]!
      const why = await openConn(c, o)
      if (why !== null) {
        failed++
        const key = why.slice(0, 80)
        failures[key] = (failures[key] ?? 0) + 1
        onFail(c)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, lane))
  return { failed, failures }
}

function summary(lat: number[]) {
  let max = NaN
  for (const x of lat) if (!(x <= max)) max = x
  return { latCount: lat.length, latP50: percentile(lat, 50), latP99: percentile(lat, 99), latMax: max }
}

serveRequests({
  async connect(m) {
    const n = Number(m.n)
    const sample = Math.min(n, Number(m.sample ?? 20))
    const sampledIdx = new Set(Array.from({ length: sample }, (_, j) => Math.floor(((j + 0.5) * n) / sample)))
    const track = Boolean(m.track)
    conns = Array.from({ length: n }, (_, i) => newConn(i, sampledIdx.has(i), track))
    const list = [...conns]
    if (m.control) {
      control = newConn(n, true, true)
      list.push(control)
    }
    const t0 = monoMs()
    const r = await openAll(list, { port: m.port, path: m.path, token: m.token, frame: () => String(m.frame) }, Number(m.concurrency ?? 256))
    return { connected: list.length - r.failed, failed: r.failed, failures: r.failures, ms: monoMs() - t0, firstKind: conns[0]?.firstKind }
  },
  mark() {
    const lat = g.lat
    g.lat = []
    return { frames: g.frames, bytes: g.bytes, t: monoMs(), ...summary(lat), closes: { ...g.closes }, open: g.open }
  },
  drop() {
    let min = Infinity
    let max = -Infinity
    for (const c of conns) {
      c.lastSeq = seqOf(c.lastHead, c.lastHeadLen)
      min = Math.min(min, c.lastSeq)
      max = Math.max(max, c.lastSeq)
      c.sock?.destroy()
    }
    return { dropped: conns.length, minSeq: min, maxSeq: max }
  },
  async resume(m) {
    const target = control === null ? -1 : seqOf(control.lastHead, control.lastHeadLen)
    const start = monoMs()
    resume = { target, start, left: conns.length, done: null, times: [] }
    const r = resume
    const all = new Promise<void>((resolve) => (r.done = resolve))
    for (const c of conns) {
      c.resuming = true
      c.kind = null
      c.track = true
    }
    const opened = openAll(
      conns,
      {
        port: m.port,
        path: m.path,
        token: m.token,
        frame: (c) => JSON.stringify({ type: 'subscribe', id: '1', instances: '*', since: { epoch: m.epoch, seq: c.lastSeq } }),
      },
      Number(m.concurrency ?? 500),
      // A connection that could not resume will not recover: stop waiting for it.
      () => {
        if (--r.left === 0) r.done?.()
      },
    )
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), Number(m.timeoutMs ?? 30_000))))
    const o = await Promise.race([opened, timeout])
    await Promise.race([all, timeout])
    clearTimeout(timer)
    const failed = o === null ? NaN : o.failed
    const kinds = { resumed: 0, snapshot: 0 }
    for (const c of conns) if (c.kind !== null) kinds[c.kind]++
    resume = null
    return {
      target,
      recovered: r.times.length,
      allMs: r.times.length === conns.length ? percentile(r.times, 100) : NaN,
      p50Ms: percentile(r.times, 50),
      p99Ms: percentile(r.times, 99),
      failed,
      ...kinds,
    }
  },
  close() {
    for (const c of conns) c.sock?.destroy()
    control?.sock?.destroy()
    conns = []
    control = null
    return {}
  },
  exit() {
    for (const c of conns) c.sock?.destroy()
  },
})

sendReady({ pid: process.pid, nofile: openFileLimit() })
