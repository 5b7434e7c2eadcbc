/**
 * @module A TCP relay on 127.0.0.1 that hands a server's bytes to its client at a set rate: a slow
 * reader for the stream tests and the noisy-neighbour bench.
 */
import { connect, createServer, type Socket } from 'node:net'

/** A TCP relay that hands the hub's bytes to the client at `rate` bytes per second. */
export async function throttledRelay(target: number, rate: number): Promise<{ port: number; close(): void }> {
  const sockets = new Set<Socket>()
  const server = createServer((down) => {
    const up = connect(target, '127.0.0.1')
    sockets.add(up).add(down)
    down.pipe(up)
    const started = Date.now()
    let sent = 0
    up.on('data', (chunk: Buffer) => {
      down.write(chunk)
      sent += chunk.length
      const ahead = sent / rate - (Date.now() - started) / 1000
      if (ahead > 0) {
        up.pause()
        setTimeout(() => up.resume(), ahead * 1000)
      }
    })
    const end = () => (up.destroy(), down.destroy())
    up.on('close', end).on('error', end)
    down.on('close', end).on('error', end)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { port: (server.address() as { port: number }).port, close: () => (server.close(), sockets.forEach((s) => s.destroy())) }
}
