/**
 * A loopback stand-in for WhatsApp's WebSocket endpoint that the real makeWASocket (Baileys rc.9)
 * completes its handshake with: the server side of the Noise XX handshake (rc.9 checks only the
 * certificate's issuerSerial === 0, Utils/noise-handler.js:86) and encrypted binary-node frames
 * both ways, so real stanzas (pair-device, success, stream:error, iq answers) reach the real socket.
 * Ported from the lab of docs/baileys-rc9.md (fake-wa.mjs). Listens on 127.0.0.1 only.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import {
  aesDecryptGCM,
  aesEncryptGCM,
  Curve,
  decodeBinaryNode,
  encodeBinaryNode,
  hkdf,
  NOISE_MODE,
  NOISE_WA_HEADER,
  proto,
  sha256,
  type BinaryNode,
} from '@whiskeysockets/baileys'
import { WebSocketServer, type WebSocket } from 'ws'

const iv = (n: number) => {
  const b = Buffer.alloc(12)
  b.writeUInt32BE(n, 8)
  return b
}

class ServerNoise {
  private hash: Buffer
  private salt: Buffer
  private enc: Buffer
  private dec: Buffer
  private counter = 0
  private readCounter = 0
  private writeCounter = 0
  private finished = false

  constructor() {
    const data = Buffer.from(NOISE_MODE)
    this.hash = data.length === 32 ? data : Buffer.from(sha256(data))
    this.salt = this.enc = this.dec = this.hash
  }
  auth(d: Uint8Array) {
    if (!this.finished) this.hash = Buffer.from(sha256(Buffer.concat([this.hash, d])))
  }
  async mix(d: Uint8Array) {
    const k = Buffer.from(await hkdf(Buffer.from(d), 64, { salt: this.salt, info: '' }))
    this.salt = k.subarray(0, 32)
    this.enc = this.dec = k.subarray(32)
    this.counter = 0
  }
  encrypt(p: Uint8Array): Buffer {
    const r = Buffer.from(aesEncryptGCM(p, this.enc, iv(this.finished ? this.writeCounter++ : this.counter++), this.finished ? Buffer.alloc(0) : this.hash))
    this.auth(r)
    return r
  }
  decrypt(c: Uint8Array): Buffer {
    const r = Buffer.from(aesDecryptGCM(c, this.dec, iv(this.finished ? this.readCounter++ : this.counter++), this.finished ? Buffer.alloc(0) : this.hash))
    this.auth(c)
    return r
  }
  async finish() {
    const k = Buffer.from(await hkdf(Buffer.alloc(0), 64, { salt: this.salt, info: '' }))
    // The client writes with the first half and reads with the second; the server mirrors it.
    this.dec = k.subarray(0, 32)
    this.enc = k.subarray(32)
    this.readCounter = this.writeCounter = 0
    this.finished = true
  }
}

const frame = (d: Uint8Array) => {
  const f = Buffer.alloc(3 + d.length)
  f.writeUInt8(d.length >> 16, 0)
  f.writeUInt16BE(d.length & 0xffff, 1)
  Buffer.from(d).copy(f, 3)
  return f
}

export interface FakeConn {
  ws: WebSocket
  received: BinaryNode[]
  /** While true the server reads but answers nothing and sends nothing. */
  silent: boolean
  /** Whether the client logged in (creds.me set) rather than registered (QR). */
  login: boolean
  send(node: BinaryNode): void
  iqResult(node: BinaryNode, content?: BinaryNode[]): void
}

export interface FakeWaOptions {
  /** After the handshake; `login`: the client sent a login (saved creds), not a registration. */
  onReady?(conn: FakeConn): void
  /** Return true when handled; unhandled get/set iqs get an empty result. */
  onNode?(conn: FakeConn, node: BinaryNode): boolean
}

export interface FakeWa {
  port: number
  url: string
  conns: FakeConn[]
  server: Server
  close(): Promise<void>
}

export async function startFakeWa(opts: FakeWaOptions = {}): Promise<FakeWa> {
  const server = createServer()
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  const wss = new WebSocketServer({ server })
  const conns: FakeConn[] = []
  wss.on('connection', (ws) => {
    const noise = new ServerNoise()
    const eph = Curve.generateKeyPair()
    const stat = Curve.generateKeyPair()
    let inBytes = Buffer.alloc(0)
    let gotIntro = false
    let stage = 0
    let closed = false
    const conn: FakeConn = {
      ws,
      received: [],
      silent: false,
      login: false,
      send(node) {
        if (closed || conn.silent) return
        ws.send(frame(noise.encrypt(encodeBinaryNode(node))))
      },
      iqResult(node, content) {
        conn.send({ tag: 'iq', attrs: { id: node.attrs.id!, type: 'result', from: 's.whatsapp.net' }, ...(content ? { content } : {}) })
      },
    }
    conns.push(conn)
    ws.on('close', () => (closed = true))
    // Frames are handled strictly in order: the Noise counters depend on it.
    let chain = Promise.resolve()
    ws.on('message', (data: Buffer) => {
      chain = chain.then(() => onData(data)).catch(() => ws.terminate())
    })
    const onData = async (data: Buffer) => {
      inBytes = Buffer.concat([inBytes, data])
      if (!gotIntro) {
        inBytes = inBytes.subarray(4) // "WA" 6 3
        gotIntro = true
      }
      while (inBytes.length >= 3) {
        const size = (inBytes.readUInt8(0) << 16) | inBytes.readUInt16BE(1)
        if (inBytes.length < size + 3) break
        const f = inBytes.subarray(3, size + 3)
        inBytes = inBytes.subarray(size + 3)
        if (stage === 0) {
          const { clientHello } = proto.HandshakeMessage.decode(f)
          noise.auth(NOISE_WA_HEADER)
          noise.auth(clientHello!.ephemeral!)
          noise.auth(eph.public)
          await noise.mix(Curve.sharedKey(eph.private, clientHello!.ephemeral!))
          const staticEnc = noise.encrypt(stat.public)
          await noise.mix(Curve.sharedKey(stat.private, clientHello!.ephemeral!))
          const details = proto.CertChain.NoiseCertificate.Details.encode({ issuerSerial: 0, key: stat.public }).finish()
          const cert = proto.CertChain.encode({ intermediate: { details, signature: Buffer.alloc(64) }, leaf: { details, signature: Buffer.alloc(64) } }).finish()
          const payload = noise.encrypt(cert)
          ws.send(frame(proto.HandshakeMessage.encode({ serverHello: { ephemeral: eph.public, static: staticEnc, payload } }).finish()))
          stage = 1
        } else if (stage === 1) {
          const { clientFinish } = proto.HandshakeMessage.decode(f)
          const clientStatic = noise.decrypt(clientFinish!.static!)
          await noise.mix(Curve.sharedKey(eph.private, clientStatic))
          const payload = proto.ClientPayload.decode(noise.decrypt(clientFinish!.payload!))
          await noise.finish()
          stage = 2
          conn.login = payload.username !== null && payload.username !== undefined && String(payload.username) !== '0'
          opts.onReady?.(conn)
        } else {
          const node = await decodeBinaryNode(noise.decrypt(f))
          conn.received.push(node)
          if (conn.silent) continue
          if (opts.onNode?.(conn, node)) continue
          if (node.tag === 'iq' && (node.attrs.type === 'get' || node.attrs.type === 'set')) {
            const child = Array.isArray(node.content) ? (node.content[0] as BinaryNode | undefined) : undefined
            if (node.attrs.xmlns === 'encrypt' && child?.tag === 'count') conn.iqResult(node, [{ tag: 'count', attrs: { value: '100' } }])
            else if (node.attrs.xmlns === 'encrypt' && child?.tag === 'digest') conn.iqResult(node, [{ tag: 'digest', attrs: {} }])
            else conn.iqResult(node)
          }
        }
      }
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    url: `ws://127.0.0.1:${port}/ws/chat`,
    conns,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate()
        for (const s of sockets) s.destroy()
        wss.close()
        server.close(() => resolve())
      }),
  }
}

/** The server's list of QR refs (what makes rc.9 show its QRs). */
export const pairDevice = (refs: number): BinaryNode => ({
  tag: 'iq',
  attrs: { id: 'pd-1', type: 'set', from: 's.whatsapp.net' },
  content: [{ tag: 'pair-device', attrs: {}, content: Array.from({ length: refs }, (_, i) => ({ tag: 'ref', attrs: {}, content: Buffer.from(`2@ref${i + 1}`) })) }],
})

/** `<success>`: the login of a paired session is accepted (rc.9 then emits `open`). */
export const success = (lid = '123456789012345:12@lid'): BinaryNode => ({
  tag: 'success',
  attrs: { t: String(Math.floor(Date.now() / 1000)), lid, location: 'frc', props: '1', abprops: '1', creation: '1700000000' },
})

/** `<ib><offline/></ib>`: the offline backlog is delivered (receivedPendingNotifications). */
export const offline = (count = 0): BinaryNode => ({ tag: 'ib', attrs: {}, content: [{ tag: 'offline', attrs: { count: String(count) } }] })
