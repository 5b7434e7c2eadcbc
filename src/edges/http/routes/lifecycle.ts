/**
 * @module WhatsApp lifecycle (connect by QR or pairing code, reconnect, logout) and, in simulated
 * mode only, the controls that act like the phone or the WhatsApp server.
 */
import { HubError, MSG } from '../../../core/errors.js'
import type { Hub } from '../../../hub/hub.js'
import type { InstanceView } from '../../../hub/model.js'
import type { WhatsAppControl } from '../../../ports/whatsapp.js'
import { connectQuery, simCloseBody, simNetworkBody, simOnlineBody, simProfileBody, simSilenceBody } from '../../../protocol/rest-bodies.js'
import { connectAnswer, done, logoutAnswer, reconnectAnswer, simNetworkAnswer, simSilenceAnswer, simStatus } from '../../../protocol/rest-responses.js'
import { qrDataUri } from '../qr.js'
import { sendOk } from '../http.js'
import type { Router } from '../route.js'

const ref = (inst: InstanceView) => ({ id: inst.id, name: inst.name, settings: inst.config.settings, proxy: inst.config.proxy })

const tag = 'WhatsApp lifecycle'
const simTag = 'Simulator'
const SIM = 'Simulated mode only (HUB_WHATSAPP=simulated); 404 otherwise. 409 `Instance has no live socket` before a connect.'

export function lifecycleRoutes(r: Router, hub: Hub, wa: WhatsAppControl | null, connectWaitMs: number): void {
  const need = (): WhatsAppControl => {
    if (wa === null) throw new HubError('unavailable', 'WhatsApp connections are not enabled on this hub')
    return wa
  }

  r.add(
    'get',
    '/api/instance/connect/:instance',
    {
      tag,
      description:
        'Starts the WhatsApp socket (unless one is live) and answers the QR to scan (raw and as a PNG data URI), a pairing code when `number` is given, or that it is already connected. Waits up to HUB_CONNECT_TIMEOUT_MS for the first of these.',
      query: connectQuery,
      response: connectAnswer,
      errors: [502, 503, 504],
    },
    async (ctx, p, _b, q) => {
      const inst = hub.resolveInstance(p, ctx.params[0]!)
      const out = await need().connect(ref(inst), { number: q.number, timeoutMs: connectWaitMs })
      if (out.status === 'qr') {
        const qrCodeBase64 = await qrDataUri(out.qr)
        return sendOk(ctx, 'QR code generated', { qrCode: out.qr, qrCodeBase64, status: 'qr' })
      }
      if (out.status === 'pairing') return sendOk(ctx, 'Pairing code generated', { pairingCode: out.pairingCode, status: 'pairing' })
      sendOk(ctx, 'Instance already connected', { status: 'connected' })
    },
  )

  r.add(
    'post',
    '/api/instance/reconnect/:instance',
    {
      tag,
      description: 'Starts a socket on the saved session and answers the state it left (`connected` when it had nothing to do); 400 without a saved session.',
      response: reconnectAnswer,
      errors: [400, 502, 503, 504],
    },
    async (ctx, p) => {
      const inst = hub.resolveInstance(p, ctx.params[0]!)
      const status = await need().reconnect(ref(inst))
      sendOk(ctx, 'Reconnect initiated', { status })
    },
  )

  r.add(
    'del',
    '/api/instance/logout/:instance',
    {
      tag,
      description:
        'Unlinks the device from the phone, wipes the session and keeps the instance, `loggedout`. WhatsApp does not confirm an unlink: `unlinkSent` says whether the request was written to it; when it was not, `warning` says the phone may still list the device.',
      response: logoutAnswer,
      errors: [502, 503, 504],
    },
    async (ctx, p) => {
      const inst = hub.resolveInstance(p, ctx.params[0]!)
      const { unlinkSent } = await need().logout(ref(inst))
      // The answer acknowledges `loggedout`: commit it now rather than with the write-behind.
      hub.flush()
      sendOk(ctx, 'Instance logged out', {
        instance: { status: 'loggedout' },
        unlinkSent,
        ...(unlinkSent ? {} : { warning: 'The unlink request could not be sent to WhatsApp: the phone may still list this device (remove it under Linked devices)' }),
      })
    },
  )

  const sim = () => {
    const s = wa?.simulator
    if (s === null || s === undefined) throw new HubError('notFound', MSG.notFound)
    return s
  }
  r.add(
    'get',
    '/api/sim/status',
    {
      tag: simTag,
      description: `Says whether WhatsApp is simulated, and how many times two live sockets of one number overlapped past the margin (cluster-wide in a cluster). ${SIM}`,
      response: simStatus,
      errors: [404],
    },
    async (ctx) => {
      const conflicts = await sim().conflicts()
      sendOk(ctx, 'Simulated WhatsApp mode', { simulated: true, conflicts })
    },
  )
  r.add(
    'post',
    '/api/sim/:instance/scan',
    { tag: simTag, description: `Acts like the phone scanning the instance's current QR (or entering its pairing code). ${SIM}`, response: done('Scan simulated'), errors: [409] },
    async (ctx, p) => {
      const s = sim()
      await s.scan(hub.resolveInstance(p, ctx.params[0]!).id)
      sendOk(ctx, 'Scan simulated')
    },
  )
  r.add(
    'post',
    '/api/sim/:instance/close',
    {
      tag: simTag,
      description: `Acts like WhatsApp closing the socket with this code (428 connection closed, 401 logged out, 515 restart required, …). ${SIM}`,
      body: simCloseBody,
      response: done('Close simulated'),
      errors: [409],
      example: { body: { code: 428, message: 'Connection Terminated' } },
    },
    async (ctx, p, b) => {
      const s = sim()
      const inst = hub.resolveInstance(p, ctx.params[0]!)
      await s.close(inst.id, b.code, b.message)
      sendOk(ctx, 'Close simulated')
    },
  )
  r.add(
    'post',
    '/api/sim/:instance/online',
    { tag: simTag, description: `Acts like the number's presence changing. ${SIM}`, body: simOnlineBody, response: done('Presence simulated'), errors: [409], example: { body: { online: true } } },
    async (ctx, p, b) => {
      const s = sim()
      const inst = hub.resolveInstance(p, ctx.params[0]!)
      await s.online(inst.id, b.online)
      sendOk(ctx, 'Presence simulated')
    },
  )
  r.add(
    'post',
    '/api/sim/:instance/network',
    {
      tag: simTag,
      description: `Sets how the next sockets of the instance fail, as real Baileys does: \`unreachable\` (DNS failure before any QR), \`tls\` (500 "WebSocket Error (self-signed certificate)"), \`hang\` (an upgrade that never answers), or \`ok\`. ${SIM}`,
      body: simNetworkBody,
      response: simNetworkAnswer,
      example: { body: { mode: 'ok' } },
    },
    async (ctx, p, b) => {
      const s = sim()
      const inst = hub.resolveInstance(p, ctx.params[0]!)
      await s.network(inst.id, b.mode)
      sendOk(ctx, b.mode === 'ok' ? 'Network restored for the next connections' : `Network set to "${b.mode}" for the next connections`, { mode: b.mode })
    },
  )
  r.add(
    'post',
    '/api/sim/:instance/silence',
    {
      tag: simTag,
      description: `Keeps the open socket open but lets nothing arrive for \`ms\` (past HUB_SILENT_AFTER_MS the hub restarts it as \`silent\`). ${SIM}`,
      body: simSilenceBody,
      response: simSilenceAnswer,
      errors: [409],
      example: { body: { ms: 1000 } },
    },
    async (ctx, p, b) => {
      const s = sim()
      const inst = hub.resolveInstance(p, ctx.params[0]!)
      await s.silence(inst.id, b.ms)
      sendOk(ctx, 'Silence simulated', { ms: b.ms })
    },
  )
  r.add(
    'post',
    '/api/sim/:instance/profile',
    {
      tag: simTag,
      description: `Acts like the number's profile changing (name, picture, business). ${SIM}`,
      body: simProfileBody,
      response: done('Profile simulated'),
      errors: [409],
      example: { body: { name: 'Sales desk', isBusiness: true } },
    },
    async (ctx, p, b) => {
      const s = sim()
      const inst = hub.resolveInstance(p, ctx.params[0]!)
      await s.profile(inst.id, b)
      sendOk(ctx, 'Profile simulated')
    },
  )
}
