/**
 * A WebSocket client on node:net that can break the protocol on purpose: it writes whatever
 * frame bytes it is given after a real handshake, and reads the hub's frames (unfragmented,
 * server to client, unmasked) including the close code.
 */
import { randomBytes } from 'node:crypto'
import net from 'node:net'

export interface RawFrameOptions {
  fin?: boolean
  rsv?: number
  opcode: number
  mask?: boolean
  /** Overrides the length field (a lie about the payload). */
  length?: bigint
}

export function frame(payload: Buffer, o: RawFrameOptions): Buffer {
  const mask = o.mask ?? true
  const len = o.length ?? BigInt(payload.length)
  const head: number[] = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | (o.opcode & 0x0f)]
  const m = mask ? 0x80 : 0
  if (len < 126n) head.push(m | Number(len))
  else if (len < 65536n) head.push(m | 126, Number(len >> 8n) & 0xff, Number(len) & 0xff)
  else {
    head.push(m | 127)
    for (let i = 7; i >= 0; i--) head.push(Number((len >> BigInt(i * 8)) & 0xffn))
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload])
  const key = randomBytes(4)
  const body = Buffer.from(payload)
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i % 4]!
  return Buffer.concat([Buffer.from(head), key, body])
}

export const text = (s: string | Buffer) => frame(Buffer.isBuffer(s) ? s : Buffer.from(s), { opcode: 1 })

export interface RawSocket {
  socket: net.Socket
  /** Text frames received, as strings. */
  texts: string[]
  /** The close code the hub sent, once it did. */
  closeCode: number | null
  closed: Promise<void>
  write(b: Buffer): void
}

/** Opens and upgrades; rejects when the upgrade is refused. `pause` leaves the socket unread. */
export function rawConnect(port: number, token: string, opts: { pause?: boolean } = {}): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    const key = randomBytes(16).toString('base64')
    let buf = Buffer.alloc(0)
    let upgraded = false
    const raw: RawSocket = {
      socket,
      texts: [],
      closeCode: null,
      closed: new Promise((r) => socket.on('close', () => r())),
      write: (b) => {
        if (!socket.destroyed) socket.write(b)
      },
    }
    socket.on('error', () => {})
    socket.on('connect', () => {
      socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\ntoken: ${token}\r\n\r\n`)
    })
    socket.on('close', () => {
      if (!upgraded) reject(new Error(`upgrade failed: ${buf.toString('latin1').slice(0, 200)}`))
    })
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        if (!buf.subarray(0, 12).toString().startsWith('HTTP/1.1 101')) {
          socket.destroy()
          return
        }
        upgraded = true
        buf = buf.subarray(end + 4)
        if (opts.pause) socket.pause()
        resolve(raw)
      }
      for (;;) {
        if (buf.length < 2) return
        let len = buf[1]! & 0x7f
        let at = 2
        if (len === 126) {
          if (buf.length < 4) return
          len = buf.readUInt16BE(2)
          at = 4
        } else if (len === 127) {
          if (buf.length < 10) return
          len = Number(buf.readBigUInt64BE(2))
          at = 10
        }
        if (buf.length < at + len) return
        const opcode = buf[0]! & 0x0f
        const payload = buf.subarray(at, at + len)
        if (opcode === 1) raw.texts.push(payload.toString('utf8'))
        if (opcode === 8) raw.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005
        buf = buf.subarray(at + len)
      }
    })
  })
}
