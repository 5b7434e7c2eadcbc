/**
 * A TCP proxy on 127.0.0.1 the test controls, to cut one node from the engine (after
 * /work/scratch/nats/proxy.ts): `cut('refuse')` destroys every connection and stops listening
 * (ECONNREFUSED until restored); `cut('partition')` keeps connections open but holds every byte
 * both ways, in order, as a partition or a frozen peer does (only pings notice), and stalls new
 * connections the same way; `restore()` listens again on the same port, or lets the held bytes flow.
 */
import { createServer, connect as tcpConnect, type AddressInfo, type Server, type Socket } from 'node:net'

export class TcpProxy {
  private server: Server | null = null
  private port = 0
  private mode: 'open' | 'refuse' | 'partition' = 'open'
  private readonly pairs = new Set<{ client: Socket; upstream: Socket; flush: () => void }>()
  private ended = 0

  constructor(readonly targetPort: number) {}

  /** `nats://127.0.0.1:<port>` of the proxy; the same after a restore. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`
  }

  get listenPort(): number {
    return this.port
  }

  /** Live proxied connections. */
  get connections(): number {
    return this.pairs.size
  }

  /** Connections that ended (either side closed, or a cut): their held bytes are gone. */
  get dropped(): number {
    return this.ended
  }

  async start(): Promise<void> {
    this.mode = 'open'
    const server = createServer((client) => this.pipe(client))
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as AddressInfo).port
  }

  async cut(how: 'refuse' | 'partition'): Promise<void> {
    this.mode = how
    if (how === 'refuse') {
      this.destroyAll()
      await this.closeListener()
    }
  }

  async restore(): Promise<void> {
    if (this.mode === 'refuse') {
      await this.start()
      return
    }
    this.mode = 'open'
    for (const p of this.pairs) p.flush()
  }

  async close(): Promise<void> {
    this.destroyAll()
    await this.closeListener()
  }

  private pipe(client: Socket): void {
    const upstream = tcpConnect(this.targetPort, '127.0.0.1')
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    const held: [Socket, Buffer][] = []
    const pair = {
      client,
      upstream,
      flush: () => {
        for (const [to, b] of held.splice(0)) if (!to.destroyed) to.write(b)
      },
    }
    this.pairs.add(pair)
    const drop = () => {
      if (this.pairs.delete(pair)) this.ended++
      client.destroy()
      upstream.destroy()
    }
    for (const s of [client, upstream]) {
      s.on('error', drop)
      s.on('close', drop)
    }
    const forward = (to: Socket) => (b: Buffer) => {
      if (this.mode === 'open' && held.length === 0) to.write(b)
      else held.push([to, b])
    }
    client.on('data', forward(upstream))
    upstream.on('data', forward(client))
  }

  private destroyAll(): void {
    for (const p of this.pairs) {
      p.client.destroy()
      p.upstream.destroy()
      this.ended++
    }
    this.pairs.clear()
  }

  private async closeListener(): Promise<void> {
    const server = this.server
    this.server = null
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
