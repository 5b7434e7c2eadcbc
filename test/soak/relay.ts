/**
 * A TCP relay to the hub for the soak's clients: `drop` cuts every connection (a network blip);
 * `stall` makes the relay stop reading from the hub, for connections open now and for each new
 * one shortly after it opens. A connection stalled from its start keeps the kernel's receive
 * buffer small, so the hub, not the kernel, ends up holding what the client does not read.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'

export interface SoakRelay {
  port: number
  drop(): void
  stall(on: boolean): void
  close(): Promise<void>
}

export async function soakRelay(hubPort: number, stallAfterMs = 1000): Promise<SoakRelay> {
  const open = new Set<Socket>()
  const ups = new Set<{ up: Socket; down: Socket }>()
  let stalled = false
  const pause = (p: { up: Socket; down: Socket }) => {
    p.up.unpipe(p.down)
    p.up.pause()
  }
  const server = createServer((down) => {
    const up = connect(hubPort, '127.0.0.1')
    for (const s of [up, down]) {
      open.add(s)
      s.on('close', () => open.delete(s))
      s.on('error', () => {})
    }
    const pair = { up, down }
    ups.add(pair)
    down.pipe(up)
    up.pipe(down)
    up.on('close', () => {
      ups.delete(pair)
      down.destroy()
    })
    down.on('close', () => up.destroy())
    if (stalled) setTimeout(() => stalled && pause(pair), stallAfterMs)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    drop() {
      for (const s of open) s.destroy()
    },
    stall(on) {
      stalled = on
      for (const p of ups) {
        if (on) pause(p)
        else p.up.pipe(p.down)
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy()
        server.close(() => r())
      }),
  }
}
