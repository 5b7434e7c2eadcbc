/**
 * A webhook receiver on 127.0.0.1 for the tests: records every request, and answers as the test
 * says (a status, a redirect, a hang, or a dropped connection).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: string
  /** The status answered (null: dropped or left hanging). */
  answered: number | null
}

export type Behaviour = { status: number; headers?: Record<string, string>; endless?: boolean } | 'drop' | 'hang'

export interface Receiver {
  url: string
  port: number
  received: Received[]
  /** Requests answered 2xx, in arrival order. */
  accepted(): Received[]
  /** What the next requests get (default 204). */
  behave(b: Behaviour | ((r: Received) => Behaviour)): void
  /** Requests open right now, and the most there were at once. */
  open(): number
  maxOpen(): number
  /** The most requests open at once on one path. */
  maxOpenOnOnePath(): number
  /** Answers every hanging request with 204 and stops hanging. */
  release(): void
  close(): Promise<void>
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = []
  let behaviour: Behaviour | ((r: Received) => Behaviour) = { status: 204 }
  let open = 0
  let maxOpen = 0
  const openByPath = new Map<string, number>()
  let maxOnPath = 0
  const hanging: { res: ServerResponse; rec: Received }[] = []
  const server: Server = createServer((req, res) => {
    open++
    maxOpen = Math.max(maxOpen, open)
    const path = req.url ?? ''
    openByPath.set(path, (openByPath.get(path) ?? 0) + 1)
    maxOnPath = Math.max(maxOnPath, openByPath.get(path)!)
    let closed = false
    const done = () => {
      if (!closed) {
        open--
        openByPath.set(path, openByPath.get(path)! - 1)
      }
      closed = true
    }
    res.on('close', done)
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const rec: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), answered: null }
      received.push(rec)
      const b = typeof behaviour === 'function' ? behaviour(rec) : behaviour
      if (b === 'drop') return void req.socket.destroy()
      if (b === 'hang') return void hanging.push({ res, rec })
      rec.answered = b.status
      if (b.endless === true) {
        // A body that never ends: only a client that stops reading gets past it.
        res.writeHead(b.status, b.headers)
        const more = () => {
          while (!res.destroyed && res.write(Buffer.alloc(64 * 1024, 120)));
          if (!res.destroyed) res.once('drain', more)
        }
        return more()
      }
      res.writeHead(b.status, b.headers).end('ok')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    accepted: () => received.filter((r) => r.answered !== null && r.answered >= 200 && r.answered < 300),
    behave: (b) => {
      behaviour = b
    },
    open: () => open,
    maxOpen: () => maxOpen,
    maxOpenOnOnePath: () => maxOnPath,
    release: () => {
      behaviour = { status: 204 }
      for (const { res, rec } of hanging.splice(0)) {
        rec.answered = 204
        if (!res.destroyed) res.writeHead(204).end()
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const { res } of hanging.splice(0)) res.destroy()
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}
