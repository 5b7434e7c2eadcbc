/**
 * Proxies written for the tests, on 127.0.0.1: an HTTP CONNECT proxy and a SOCKS5 proxy (RFC 1928,
 * with RFC 1929 username/password). Each records what it was asked to reach and pipes to it; a
 * target that is not 127.0.0.1 is refused, so nothing leaves the machine.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'

export interface TestProxy {
  port: number
  /** `host:port` of every tunnel asked for, with the credentials sent. */
  seen: { target: string; auth: string | null }[]
  close(): Promise<void>
}

function track(server: Server | HttpServer): { sockets: Set<Socket>; close(): Promise<void> } {
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  return {
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

async function listen(server: Server | HttpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

function pipeTo(client: Socket, host: string, port: number, onUp: () => void, head?: Buffer): void {
  const up = connect(port, host, () => {
    onUp()
    if (head && head.length > 0) up.write(head)
    up.pipe(client)
    client.pipe(up)
  })
  up.on('error', () => client.destroy())
  client.on('error', () => up.destroy())
  client.on('close', () => up.destroy())
}

/** An HTTP proxy answering CONNECT; `answer` other than 200 refuses every tunnel with that status line. */
export async function httpConnectProxy(answer = '200 Connection established'): Promise<TestProxy> {
  const server = createHttpServer((_req, res) => res.writeHead(405).end())
  const t = track(server)
  const seen: TestProxy['seen'] = []
  server.on('connect', (req, client: Socket, head: Buffer) => {
    seen.push({ target: req.url ?? '', auth: req.headers['proxy-authorization'] ?? null })
    const [host, port] = (req.url ?? '').split(':')
    if (!answer.startsWith('200') || host !== '127.0.0.1') {
      client.end(`HTTP/1.1 ${answer.startsWith('200') ? '403 Forbidden' : answer}\r\nContent-Length: 0\r\n\r\n`)
      return
    }
    pipeTo(client, host, Number(port), () => client.write('HTTP/1.1 200 Connection established\r\n\r\n'), head)
  })
  return { port: await listen(server), seen, close: t.close }
}

/** A SOCKS5 proxy; with `user` set it requires username/password authentication. */
export async function socks5Proxy(user?: { name: string; password: string }): Promise<TestProxy> {
  const seen: TestProxy['seen'] = []
  const server = createServer((client) => {
    let stage: 'greeting' | 'auth' | 'request' = 'greeting'
    let auth: string | null = null
    const onData = (buf: Buffer) => {
      if (stage === 'greeting') {
        const methods = [...buf.subarray(2, 2 + buf[1]!)]
        const method = user ? 2 : 0
        if (!methods.includes(method)) return void client.end(Buffer.from([5, 0xff]))
        client.write(Buffer.from([5, method]))
        stage = user ? 'auth' : 'request'
        return
      }
      if (stage === 'auth') {
        const ulen = buf[1]!
        const name = buf.subarray(2, 2 + ulen).toString()
        const password = buf.subarray(3 + ulen, 3 + ulen + buf[2 + ulen]!).toString()
        auth = `${name}:${password}`
        const ok = name === user!.name && password === user!.password
        client.write(Buffer.from([1, ok ? 0 : 1]))
        if (!ok) return void client.end()
        stage = 'request'
        return
      }
      client.off('data', onData)
      const atyp = buf[3]
      let host: string
      let at: number
      if (atyp === 1) {
        host = [...buf.subarray(4, 8)].join('.')
        at = 8
      } else if (atyp === 3) {
        host = buf.subarray(5, 5 + buf[4]!).toString()
        at = 5 + buf[4]!
      } else return void client.end(Buffer.from([5, 8, 0, 1, 0, 0, 0, 0, 0, 0]))
      const port = buf.readUInt16BE(at)
      seen.push({ target: `${host}:${port}`, auth })
      // 2: connection not allowed by ruleset.
      if (host !== '127.0.0.1') return void client.end(Buffer.from([5, 2, 0, 1, 0, 0, 0, 0, 0, 0]))
      pipeTo(client, host, port, () => client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0])))
    }
    client.on('data', onData)
    client.on('error', () => {})
  })
  const t = track(server)
  return { port: await listen(server), seen, close: t.close }
}
