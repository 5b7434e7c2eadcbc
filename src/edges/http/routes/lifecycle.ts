/**
 * @module WhatsApp lifecycle (connect by QR or pairing code, reconnect, logout) and, in simulated
 * mode only, the controls that act like the phone or the WhatsApp server.
 */
import { HubError, MSG } from '../../../core/errors.js'
import type { Hub } from '../../../hub/hub.js'
import type { InstanceView } from '../../../hub/model.js'
import type { WhatsAppControl } from '../../../ports/whatsapp.js'
import { simCloseBody, simOnlineBody, simProfileBody } from '../../../protocol/rest-bodies.js'
import { qrDataUri } from '../qr.js'
import { sendOk } from '../http.js'
import type { Router } from '../route.js'
import { parseBody } from './parse.js'

const ref = (inst: InstanceView) => ({ id: inst.id, name: inst.name, settings: inst.config.settings })

export function lifecycleRoutes(r: Router, hub: Hub, wa: WhatsAppControl | null, connectWaitMs: number): void {
  const need = (): WhatsAppControl => {
    if (wa === null) throw new HubError('unavailable', 'WhatsApp connections are not enabled on this hub')
    return wa
  }

  r.add('get', '/api/instance/connect/:instance', {}, async (ctx, p) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    const number = ctx.query.get('number')
    if (number !== null && !/^\d{6,15}$/.test(number)) throw new HubError('invalid', 'Invalid field "number": must be 6–15 digits, country code first')
    const out = await need().connect(ref(inst), { number: number ?? undefined, timeoutMs: connectWaitMs })
    if (out.status === 'qr') {
      const qrCodeBase64 = await qrDataUri(out.qr)
      return sendOk(ctx, 'QR code generated', { qrCode: out.qr, qrCodeBase64, status: 'qr' })
    }
    if (out.status === 'pairing') return sendOk(ctx, 'Pairing code generated', { pairingCode: out.pairingCode, status: 'pairing' })
    sendOk(ctx, 'Instance already connected', { status: 'connected' })
  })

  r.add('post', '/api/instance/reconnect/:instance', {}, async (ctx, p) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    const status = await need().reconnect(ref(inst))
    sendOk(ctx, 'Reconnect initiated', { status })
  })

  r.add('del', '/api/instance/logout/:instance', {}, async (ctx, p) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    await need().logout(ref(inst))
    // The answer acknowledges `loggedout`: commit it now rather than with the write-behind.
    hub.flush()
    sendOk(ctx, 'Instance logged out', { instance: { status: 'loggedout' } })
  })

  const sim = () => {
    const s = wa?.simulator
    if (s === null || s === undefined) throw new HubError('notFound', MSG.notFound)
    return s
  }
  r.add('get', '/api/sim/status', {}, (ctx) => {
    sim()
    sendOk(ctx, 'Simulated WhatsApp mode', { simulated: true })
  })
  r.add('post', '/api/sim/:instance/scan', { body: true }, async (ctx, p) => {
    const s = sim()
    await s.scan(hub.resolveInstance(p, ctx.params[0]!).id)
    sendOk(ctx, 'Scan simulated')
  })
  r.add('post', '/api/sim/:instance/close', { body: true }, async (ctx, p, body) => {
    const s = sim()
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    const b = parseBody(simCloseBody, body)
    await s.close(inst.id, b.code, b.message)
    sendOk(ctx, 'Close simulated')
  })
  r.add('post', '/api/sim/:instance/online', { body: true }, async (ctx, p, body) => {
    const s = sim()
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    await s.online(inst.id, parseBody(simOnlineBody, body).online)
    sendOk(ctx, 'Presence simulated')
  })
  r.add('post', '/api/sim/:instance/profile', { body: true }, async (ctx, p, body) => {
    const s = sim()
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    await s.profile(inst.id, parseBody(simProfileBody, body))
    sendOk(ctx, 'Profile simulated')
  })
}
