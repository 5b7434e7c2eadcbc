/**
 * @module What the demo, the bench and the tests need to run a cluster on this machine: a free
 * loopback port and Debian's nats-server.
 */
import { accessSync, constants } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { delimiter, join } from 'node:path'

export const NATS_INSTALL = 'apt-get install -y nats-server'

/** A port nothing listens on now on 127.0.0.1 (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

/** The nats-server binary, or an error naming the exact install command. */
export function natsServerBinary(dirs = ['/usr/sbin', '/usr/bin', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)]): string {
  for (const dir of dirs) {
    const path = join(dir, 'nats-server')
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // not in this folder
    }
  }
  throw new Error(`nats-server is not installed (looked in ${dirs.join(', ')}); install it with: ${NATS_INSTALL}`)
}
