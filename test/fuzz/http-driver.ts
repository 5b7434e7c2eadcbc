/**
 * Sends fuzz cases over raw TCP (node:net) and judges each connection: every answer is HTTP/1.1
 * below 500 in the JSON envelope (the dashboard's three files and 304s excepted); a connection
 * is answered or closed by the hub within a bound after the case is sent, never left hanging.
 *
 * Known, documented behaviours (not failures): uWebSockets.js closes without an answer a request
 * it cannot parse, an HTTP/1.0 request and one without Host; it refuses asynchronous answers to
 * pipelined requests, so a pipeline may end early.
 */
import net from 'node:net'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import type { FuzzCase } from './http-cases.js'

export interface Violation {
  kind: string
  problem: string
  request: string
  response: string
}

export interface HttpFuzzStats {
  cases: number
  requests: number
  answers: number
  /** Connections the hub closed without answering (unparseable by uWS, or refused). */
  closedUnanswered: number
  byStatus: Record<string, number>
  byKind: Record<string, { cases: number; answered: number }>
  /** The first 50 violations in full; violationCount counts them all. */
  violations: Violation[]
  violationCount: number
}

const DASHBOARD = new Set(['/', '/app.js', '/app.css'])

function show(b: Buffer): string {
  return JSON.stringify(b.subarray(0, 400).toString('latin1'))
}

/** Parses the answers in `raw`; returns the problems found and how many answers there were. */
export function judge(raw: Buffer, c: FuzzCase): { answers: number; statuses: number[]; problems: string[]; streaming: boolean } {
  const problems: string[] = []
  const statuses: number[] = []
  let at = 0
  let answers = 0
  while (at < raw.length) {
    const end = raw.indexOf('\r\n\r\n', at)
    if (end < 0) {
      problems.push(`incomplete head: ${show(raw.subarray(at))}`)
      break
    }
    const head = raw.subarray(at, end).toString('latin1').split('\r\n')
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(head[0]!)
    if (m === null) {
      problems.push(`not an HTTP/1.1 status line: ${JSON.stringify(head[0])}`)
      break
    }
    const status = Number(m[1])
    const headers = new Map(head.slice(1).map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]))
    at = end + 4
    if (status >= 100 && status < 200 && status !== 101) continue
    answers++
    statuses.push(status)
    if (status >= 500) problems.push(`status ${status}`)
    const type = headers.get('content-type') ?? ''
    if (status === 101 || type.startsWith('text/event-stream')) return { answers, statuses, problems, streaming: true }
    // A HEAD answer says the length of the GET's body and sends none (RFC 9110 §9.3.2).
    const method = c.methods[answers - 1] ?? ''
    if (method === 'HEAD') continue
    const length = Number(headers.get('content-length') ?? '0')
    const body = raw.subarray(at, at + length)
    if (body.length < length) {
      problems.push(`body shorter than Content-Length ${length}`)
      break
    }
    at += length
    if (status === 304 || length === 0) continue
    const path = c.paths[answers - 1]?.split('?')[0] ?? ''
    if (status < 300 && method !== 'GET') problems.push(`${method} ${path} was accepted (${status}): a fuzz case must never write`)
    if (!type.startsWith('application/json')) {
      if (!(status === 200 && DASHBOARD.has(path))) problems.push(`${status} with Content-Type ${JSON.stringify(type)}`)
      continue
    }
    let json: any
    try {
      const coding = headers.get('content-encoding')
      const plain = coding === 'br' ? brotliDecompressSync(body) : coding === 'gzip' ? gunzipSync(body) : body
      json = JSON.parse(plain.toString('utf8'))
    } catch {
      problems.push(`${status} body is not JSON: ${show(body)}`)
      continue
    }
    const ok = json?.success === true ? status < 400 : json?.success === false && typeof json.error?.message === 'string' && status >= 400
    if (!ok) problems.push(`${status} body outside the envelope: ${show(body)}`)
  }
  return { answers, statuses, problems, streaming: false }
}

/** One case on its own connection. Resolves once the hub closed it, or reports a hang after `hangMs`. */
export function sendCase(port: number, c: FuzzCase, hangMs: number): Promise<{ raw: Buffer; hung: boolean; streaming: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let done = false
    let timer: NodeJS.Timeout | null = null
    const finish = (hung: boolean, streaming = false) => {
      if (done) return
      done = true
      if (timer !== null) clearTimeout(timer)
      s.destroy()
      resolve({ raw: Buffer.concat(chunks), hung, streaming })
    }
    s.on('data', (d) => {
      chunks.push(d)
      // A stream (SSE, an upgrade) never ends by itself: seeing its head is enough.
      const text = Buffer.concat(chunks).toString('latin1')
      if (/^HTTP\/1\.1 101 /m.test(text) || /content-type: text\/event-stream/i.test(text)) finish(false, true)
    })
    s.on('close', () => finish(false))
    s.on('error', () => finish(false))
    s.on('connect', async () => {
      for (let i = 0; i < c.pieces.length; i++) {
        if (done) return
        if (i > 0 && c.delayMs > 0) await new Promise((r) => setTimeout(r, c.delayMs))
        s.write(c.pieces[i]!)
      }
      // Everything is sent: from here the hub must answer or close, never leave it open.
      s.end()
      timer = setTimeout(() => finish(true), hangMs)
    })
  })
}

export async function runHttpFuzz(port: number, cases: Iterable<FuzzCase>, opts: { concurrency: number; hangMs: number; stats?: HttpFuzzStats }): Promise<HttpFuzzStats> {
  const stats: HttpFuzzStats = opts.stats ?? { cases: 0, requests: 0, answers: 0, closedUnanswered: 0, byStatus: {}, byKind: {}, violations: [], violationCount: 0 }
  const it = cases[Symbol.iterator]()
  const worker = async () => {
    for (;;) {
      const next = it.next()
      if (next.done) return
      const c = next.value
      const r = await sendCase(port, c, opts.hangMs)
      const j = judge(r.raw, c)
      stats.cases++
      stats.requests += c.requests
      stats.answers += j.answers
      const k = (stats.byKind[c.kind] ??= { cases: 0, answered: 0 })
      k.cases++
      if (j.answers > 0) k.answered++
      else stats.closedUnanswered++
      for (const s of j.statuses) stats.byStatus[s] = (stats.byStatus[s] ?? 0) + 1
      const problems = r.hung ? [...j.problems, `no answer or close within ${opts.hangMs} ms`] : j.problems
      for (const problem of problems) {
        stats.violationCount++
        if (stats.violations.length < 50) stats.violations.push({ kind: c.kind, problem, request: show(Buffer.concat(c.pieces)), response: show(r.raw) })
      }
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, worker))
  return stats
}
