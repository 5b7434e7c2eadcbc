/**
 * @module Instance create, delete and token rotation (TokenAccount), and the two list views.
 */
import { configFromCreate } from '../../../core/config-updates.js'
import type { Hub, ItemShape } from '../../../hub/hub.js'
import type { Principal } from '../../../hub/model.js'
import type { WhatsAppControl } from '../../../ports/whatsapp.js'
import { createInstanceBody } from '../../../protocol/rest-bodies.js'
import { sendBytes, sendNotModified, sendOk, type Ctx } from '../http.js'
import type { Gate } from '../gate.js'
import type { ListCache } from '../list-cache.js'
import type { Router } from '../route.js'
import { newSigningSecret } from '../../webhooks/signing.js'
import { parseBody } from './parse.js'
import { webhookOf } from '../../../core/integrations.js'

export function instanceRoutes(r: Router, hub: Hub, lists: ListCache, wa: WhatsAppControl | null, gate: Gate): void {
  r.add('post', '/api/instance/new', { who: 'account', body: true, create: true }, (ctx, p, body) => {
    if (p.kind !== 'account') return
    // A custom token is a guess at a token when it collides: limited like unauthenticated guesses.
    if (typeof (body as { token?: unknown } | null)?.token === 'string' && !gate.allowGuess(ctx)) return
    const b = parseBody(createInstanceBody, body)
    const config = configFromCreate(b, newSigningSecret())
    const { instance, token } = hub.createInstance(p.accountId, b.name, config, b.token)
    // An inline webhook is created enabled: its signing secret is shown here, once.
    const secret = webhookOf(config, 'default')?.signingSecret ?? ''
    sendOk(
      ctx,
      'Instance created',
      {
        instance: {
          id: instance.id,
          name: instance.name,
          apiInstanceName: instance.apiInstanceName,
          token,
          status: instance.status.state,
        },
        ...(secret === '' ? {} : { signingSecret: secret }),
      },
      201,
    )
  })

  r.add('del', '/api/instance/delete/:instance', { who: 'account' }, async (ctx, p) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    if (wa !== null) await wa.remove(inst.id)
    // A concurrent request may have deleted it while the socket ended; deleting again is a no-op.
    hub.deleteInstance(inst.id)
    sendOk(ctx, 'Instance deleted', { instance: { status: 'deleted' } })
  })

  r.add('post', '/api/instance/token/:instance', {}, (ctx, p) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    const token = hub.rotateInstanceToken(inst.id)
    sendOk(ctx, 'Instance token rotated', { instance: { id: inst.id, name: inst.name, token } })
  })

  const list = (shape: ItemShape) => (ctx: Ctx, p: Principal) => {
    const raw = ctx.param('instanceName')
    const out = lists.list(shape, p, raw === null ? undefined : raw)
    if (ctx.ifNoneMatch !== '' && etagMatches(ctx.ifNoneMatch, out.etag)) return sendNotModified(ctx, out.headers)
    sendBytes(ctx, 200, out.body, out.headers)
  }
  r.add('get', '/api/instance/list', {}, list('ryze'))
  r.add('get', '/api/v1/instance/list', {}, list('wachat'))
}

/** `If-None-Match` names the current ETag (RFC 9110 weak comparison: `W/` is ignored), or is `*`. */
function etagMatches(header: string, etag: string): boolean {
  if (header === etag) return true
  return header.split(',').some((t) => {
    const tag = t.trim()
    return tag === '*' || tag === etag || tag === `W/${etag}`
  })
}
