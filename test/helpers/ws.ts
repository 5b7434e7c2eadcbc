/**
 * A real WebSocket client (the `ws` package) that records every frame and close.
 */
import WebSocket from 'ws'
import type { TestHub } from './hub.js'

export interface Client {
  ws: WebSocket
  frames: any[]
  closed: Promise<{ code: number; reason: string }>
  send(frame: unknown): void
  /** Resolves with the first recorded frame (from `from` on) matching, waiting up to `ms`. */
  next(match: (f: any) => boolean, ms?: number, from?: number): Promise<any>
  /** Waits until `n` frames are recorded. */
  count(n: number, ms?: number): Promise<void>
  close(): Promise<void>
}

export async function openClient(h: TestHub, opts: { token?: string; path?: string; headers?: Record<string, string> } = {}): Promise<Client> {
  const ws = new WebSocket(`ws://127.0.0.1:${h.port}${opts.path ?? '/ws'}`, { headers: { token: opts.token ?? h.token, ...opts.headers } })
  const frames: any[] = []
  const waiters = new Set<() => void>()
  ws.on('message', (data, isBinary) => {
    frames.push(isBinary ? data : JSON.parse(data.toString()))
    for (const w of waiters) w()
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
  })
  const wait = (check: () => boolean, ms: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      if (check()) return resolve()
      const t = setTimeout(() => {
        waiters.delete(w)
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(frames).slice(0, 600)}`))
      }, ms)
      const w = () => {
        if (check()) {
          clearTimeout(t)
          waiters.delete(w)
          resolve()
        }
      }
      waiters.add(w)
    })
  const client: Client = {
    ws,
    frames,
    closed,
    send: (f) => ws.send(typeof f === 'string' ? f : JSON.stringify(f)),
    async next(match, ms = 5000, from = 0) {
      await wait(() => frames.slice(from).some(match), ms, 'a matching frame')
      return frames.slice(from).find(match)
    },
    count: (n, ms = 5000) => wait(() => frames.length >= n, ms, `${n} frames`),
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return
      ws.close()
      await closed
    },
  }
  return client
}

/** The HTTP status of a refused upgrade. */
export function upgradeStatus(h: TestHub, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${h.port}${path}`, { headers })
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    ws.on('open', () => {
      ws.close()
      reject(new Error('upgrade was accepted'))
    })
    ws.on('error', () => {})
  })
}
