/**
 * A loopback "WhatsApp" for the real makeWASocket (Baileys 7.0.0-rc.9), after
 * /work/scratch/baileys-lab/fake-wa.mjs: the server side of the Noise XX handshake (rc.9 checks
 * only the certificate's issuerSerial) and encrypted binary nodes both ways. Unlike a bare
 * loopback it keeps the devices it paired, and lets a login in only when it comes with the same
 * noise key and number as the pairing (what the real server checks), so a socket that reaches
 * `open` proves the session it used is the paired one. It also plays the phone: `scan(qr)` reads
 * the QR as a phone does and sends a valid pair-success signed with a fresh account key, then
 * verifies the device signature of the answer before it registers the device and asks for the
 * 515 restart. Pre-keys a device uploads are kept; a second login of one device replaces the
 * first with a 440 conflict, as WhatsApp does. Listens on 127.0.0.1 only.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import {
  aesDecryptGCM,
  aesEncryptGCM,
  Curve,
  decodeBinaryNode,
  encodeBinaryNode,
  getBinaryNodeChild,
  getBinaryNodeChildren,
  hkdf,
  hmacSign,
  NOISE_MODE,
  NOISE_WA_HEADER,
  proto,
  sha256,
  type BinaryNode,
} from '@whiskeysockets/baileys'
import { WebSocketServer, type WebSocket } from 'ws'

export interface PairedDevice {
  /** `<number>:<device>@s.whatsapp.net` */
  jid: string
  lid: string
  /** The client's static noise key (creds.noiseKey.public): what a login must present again. */
  noiseKey: Buffer
  identityKey: Buffer
  /** Uploaded pre-keys: id → public key. */
  preKeys: Map<number, Buffer>
}

export interface LoginAttempt {
  jid: string
  accepted: boolean
  /** Why a login was refused (401). */
  refused?: string
}

interface Conn {
  ws: WebSocket
  noise: ServerNoise
  /** The client's static noise key, known after its ClientFinish. */
  noiseKey: Buffer | null
  registering: boolean
  /** The device this connection logged in as. */
  device: PairedDevice | null
  pairing: { jid: string; lid: string; identityKey: Buffer; accountKey: { public: Uint8Array } } | null
  closed: boolean
  send(node: BinaryNode): void
}

const S_WHATSAPP_NET = 's.whatsapp.net'

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
    this.hash = data.length === 32 ? data : sha256(data)
    this.salt = this.hash
    this.enc = this.hash
    this.dec = this.hash
  }

  auth(d: Uint8Array): void {
    if (!this.finished) this.hash = sha256(Buffer.concat([this.hash, d]))
  }

  async mix(d: Uint8Array): Promise<void> {
    const k = await hkdf(Buffer.from(d), 64, { salt: this.salt, info: '' })
    this.salt = k.subarray(0, 32)
    this.enc = this.dec = k.subarray(32)
    this.counter = 0
  }

  encrypt(p: Uint8Array): Buffer {
    const r = aesEncryptGCM(p, this.enc, iv(this.finished ? this.writeCounter++ : this.counter++), this.finished ? Buffer.alloc(0) : this.hash)
    this.auth(r)
    return r
  }

  decrypt(c: Uint8Array): Buffer {
    const r = aesDecryptGCM(c, this.dec, iv(this.finished ? this.readCounter++ : this.counter++), this.finished ? Buffer.alloc(0) : this.hash)
    this.auth(c)
    return r
  }

  async finish(): Promise<void> {
    const k = await hkdf(Buffer.alloc(0), 64, { salt: this.salt, info: '' })
    // The client writes with the first half and reads with the second; the server mirrors it.
    this.dec = k.subarray(0, 32)
    this.enc = k.subarray(32)
    this.readCounter = 0
    this.writeCounter = 0
    this.finished = true
  }
}

function iv(n: number): Buffer {
  const b = Buffer.alloc(12)
  b.writeUInt32BE(n, 8)
  return b
}

function frame(d: Uint8Array): Buffer {
  const f = Buffer.alloc(3 + d.length)
  f.writeUInt8(d.length >> 16, 0)
  f.writeUInt16BE(d.length & 0xffff, 1)
  Buffer.from(d).copy(f, 3)
  return f
}

function deviceAddress(jid: string): string {
  return jid.replace(/@.*$/, '')
}

export class FakeWhatsApp {
  readonly devices = new Map<string, PairedDevice>()
  readonly logins: LoginAttempt[] = []
  private readonly conns: Conn[] = []
  private readonly sockets = new Set<Socket>()

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeWhatsApp> {
    const http = createServer()
    const wss = new WebSocketServer({ server: http })
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const { port } = http.address() as AddressInfo
    const fake = new FakeWhatsApp(http, wss, `ws://127.0.0.1:${port}/ws/chat`)
    http.on('connection', (s: Socket) => {
      fake.sockets.add(s)
      s.on('close', () => fake.sockets.delete(s))
    })
    wss.on('connection', (ws) => fake.accept(ws))
    return fake
  }

  /** Connections that logged in and are still open, per device address (`<number>:<device>`). */
  openLogins(address: string): number {
    return this.conns.filter((c) => !c.closed && c.device !== null && deviceAddress(c.device.jid) === address).length
  }

  /**
   * The phone scans `qr` (`ref,noiseKey,identityKey,advSecret` in base64): the server sends
   * pair-success to the connection that showed it. Throws when no open connection shows that QR.
   */
  scan(qr: string, who: { jid: string; lid: string; platform?: string }): void {
    const [, noiseB64, identityB64, advB64] = qr.split(',')
    const conn = this.conns.find((c) => !c.closed && c.registering && c.noiseKey?.toString('base64') === noiseB64)
    if (conn === undefined || !identityB64 || !advB64) throw new Error(`no open connection shows the QR ${qr.slice(0, 24)}…`)
    const identityKey = Buffer.from(identityB64, 'base64')
    const accountKey = Curve.generateKeyPair()
    const deviceDetails = proto.ADVDeviceIdentity.encode({ rawId: 1, timestamp: Math.floor(Date.now() / 1000), keyIndex: 1 }).finish()
    const accountSignature = Curve.sign(accountKey.private, Buffer.concat([Buffer.from([6, 0]), deviceDetails, identityKey]))
    const details = proto.ADVSignedDeviceIdentity.encode({ details: deviceDetails, accountSignatureKey: accountKey.public, accountSignature }).finish()
    const hmac = hmacSign(details, Buffer.from(advB64, 'base64'))
    const identity = proto.ADVSignedDeviceIdentityHMAC.encode({ details, hmac }).finish()
    conn.pairing = { jid: who.jid, lid: who.lid, identityKey, accountKey }
    conn.send({
      tag: 'iq',
      attrs: { id: 'pair-success-1', type: 'set', from: S_WHATSAPP_NET },
      content: [
        {
          tag: 'pair-success',
          attrs: {},
          content: [
            { tag: 'device-identity', attrs: {}, content: identity },
            { tag: 'platform', attrs: { name: who.platform ?? 'android' } },
            { tag: 'device', attrs: { jid: who.jid, lid: who.lid } },
          ],
        },
      ],
    })
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate()
    for (const s of this.sockets) s.destroy()
    this.wss.close()
    await new Promise<void>((resolve) => this.http.close(() => resolve()))
  }

  private accept(ws: WebSocket): void {
    const noise = new ServerNoise()
    const ephemeral = Curve.generateKeyPair()
    const serverStatic = Curve.generateKeyPair()
    let inBytes = Buffer.alloc(0)
    let gotIntro = false
    let stage: 'hello' | 'finish' | 'nodes' = 'hello'
    const conn: Conn = {
      ws,
      noise,
      noiseKey: null,
      registering: false,
      device: null,
      pairing: null,
      closed: false,
      send(node) {
        if (conn.closed) return
        ws.send(frame(noise.encrypt(encodeBinaryNode(node))))
      },
    }
    this.conns.push(conn)
    ws.on('close', () => (conn.closed = true))
    // Frames are handled one at a time: the noise counters depend on their order.
    let chain = Promise.resolve()
    ws.on('message', (data: Buffer) => {
      chain = chain.then(async () => {
        inBytes = Buffer.concat([inBytes, data])
        if (!gotIntro) {
          inBytes = inBytes.subarray(NOISE_WA_HEADER.length)
          gotIntro = true
        }
        while (inBytes.length >= 3) {
          const size = (inBytes.readUInt8(0) << 16) | inBytes.readUInt16BE(1)
          if (inBytes.length < size + 3) break
          const f = inBytes.subarray(3, size + 3)
          inBytes = inBytes.subarray(size + 3)
          if (stage === 'hello') {
            const { clientHello } = proto.HandshakeMessage.decode(f)
            noise.auth(NOISE_WA_HEADER)
            noise.auth(clientHello!.ephemeral!)
            noise.auth(ephemeral.public)
            await noise.mix(Curve.sharedKey(ephemeral.private, clientHello!.ephemeral!))
            const staticEnc = noise.encrypt(serverStatic.public)
            await noise.mix(Curve.sharedKey(serverStatic.private, clientHello!.ephemeral!))
            const certDetails = proto.CertChain.NoiseCertificate.Details.encode({ issuerSerial: 0, key: serverStatic.public }).finish()
            const cert = proto.CertChain.encode({
              intermediate: { details: certDetails, signature: Buffer.alloc(64) },
              leaf: { details: certDetails, signature: Buffer.alloc(64) },
            }).finish()
            const payload = noise.encrypt(cert)
            ws.send(frame(proto.HandshakeMessage.encode({ serverHello: { ephemeral: ephemeral.public, static: staticEnc, payload } }).finish()))
            stage = 'finish'
          } else if (stage === 'finish') {
            const { clientFinish } = proto.HandshakeMessage.decode(f)
            const clientStatic = noise.decrypt(clientFinish!.static!)
            await noise.mix(Curve.sharedKey(ephemeral.private, clientStatic))
            const payload = proto.ClientPayload.decode(noise.decrypt(clientFinish!.payload!))
            await noise.finish()
            stage = 'nodes'
            conn.noiseKey = Buffer.from(clientStatic)
            this.onClientPayload(conn, payload)
          } else {
            this.onNode(conn, await decodeBinaryNode(noise.decrypt(f)))
          }
        }
      })
      chain = chain.catch(() => ws.terminate())
    })
  }

  private onClientPayload(conn: Conn, payload: proto.ClientPayload): void {
    if (payload.devicePairingData) {
      conn.registering = true
      const refs = [1, 2, 3].map((i) => ({ tag: 'ref', attrs: {}, content: Buffer.from(`2@loopback-ref-${i}`) }))
      conn.send({ tag: 'iq', attrs: { id: 'pair-device-1', type: 'set', from: S_WHATSAPP_NET }, content: [{ tag: 'pair-device', attrs: {}, content: refs }] })
      return
    }
    const address = `${String(payload.username)}:${payload.device ?? 0}`
    const device = this.devices.get(address)
    const jid = `${address}@s.whatsapp.net`
    let refused: string | undefined
    if (device === undefined) refused = 'no device paired with that number'
    else if (!device.noiseKey.equals(conn.noiseKey!)) refused = 'the noise key is not the paired one'
    if (refused !== undefined) {
      this.logins.push({ jid, accepted: false, refused })
      conn.send({ tag: 'failure', attrs: { reason: '401', location: 'loopback' } })
      return
    }
    this.logins.push({ jid, accepted: true })
    for (const other of this.conns) {
      if (other !== conn && !other.closed && other.device === device) {
        other.send({ tag: 'stream:error', attrs: {}, content: [{ tag: 'conflict', attrs: { type: 'replaced' } }] })
        other.device = null
      }
    }
    conn.device = device!
    conn.send({ tag: 'success', attrs: { t: String(Math.floor(Date.now() / 1000)), lid: device!.lid, location: 'loopback', props: '1', abprops: '1', creation: '1700000000' } })
  }

  private onNode(conn: Conn, node: BinaryNode): void {
    const first = Array.isArray(node.content) ? node.content[0] : undefined
    if (node.tag !== 'iq') return
    if (node.attrs.type === 'result' && first?.tag === 'pair-device-sign') {
      this.onPairDeviceSign(conn, first)
      return
    }
    if (node.attrs.type !== 'get' && node.attrs.type !== 'set') return
    const result = (content?: BinaryNode[]) =>
      conn.send({ tag: 'iq', attrs: { id: node.attrs.id!, type: 'result', from: S_WHATSAPP_NET }, ...(content ? { content } : {}) })
    if (node.attrs.xmlns === 'encrypt' && first?.tag === 'count') {
      result([{ tag: 'count', attrs: { value: String(conn.device?.preKeys.size ?? 0) } }])
    } else if (node.attrs.xmlns === 'encrypt' && node.attrs.type === 'set' && getBinaryNodeChild(node, 'list')) {
      for (const key of getBinaryNodeChildren(getBinaryNodeChild(node, 'list'), 'key')) {
        const id = Buffer.from(getBinaryNodeChild(key, 'id')!.content as Uint8Array).readUIntBE(0, 3)
        conn.device?.preKeys.set(id, Buffer.from(getBinaryNodeChild(key, 'value')!.content as Uint8Array))
      }
      result()
    } else if (node.attrs.xmlns === 'encrypt' && first?.tag === 'digest') {
      result([{ tag: 'digest', attrs: {} }])
    } else {
      result()
    }
  }

  /** The phone verifies the companion's device signature, registers the device and asks for a restart. */
  private onPairDeviceSign(conn: Conn, sign: BinaryNode): void {
    const pairing = conn.pairing
    if (pairing === null) return
    const identityNode = getBinaryNodeChild(sign, 'device-identity')
    const account = proto.ADVSignedDeviceIdentity.decode(identityNode!.content as Uint8Array)
    const signed = Buffer.concat([Buffer.from([6, 1]), account.details!, pairing.identityKey, pairing.accountKey.public])
    if (!Curve.verify(pairing.identityKey, signed, account.deviceSignature!)) {
      conn.send({ tag: 'failure', attrs: { reason: '401', location: 'loopback' } })
      return
    }
    this.devices.set(deviceAddress(pairing.jid), {
      jid: pairing.jid,
      lid: pairing.lid,
      noiseKey: conn.noiseKey!,
      identityKey: pairing.identityKey,
      preKeys: new Map(),
    })
    conn.send({ tag: 'stream:error', attrs: { code: '515' } })
  }
}
