/**
 * @module Instance create, delete and token rotation (TokenAccount), and the two list views.
 */
import { configFromCreate } from '../../../core/config-updates.js'
import type { Hub, ItemShape } from '../../../hub/hub.js'
import type { Principal } from '../../../hub/model.js'
import type { WhatsAppControl } from '../../../ports/whatsapp.js'
import { createInstanceBody } from '../../../protocol/rest-bodies.js'
import { pickCoding, type Representation } from '../compress.js'
import { sendBytes, sendNotModified, sendOk, type Ctx } from '../http.js'
import type { ListCache } from '../list-cache.js'
import type { Router } from '../route.js'
import { parseBody } from './parse.js'

export function instanceRoutes(r: Router, hub: Hub, lists: ListCache, wa: WhatsAppControl | null): void {
  r.add('post', '/api/instance/new', { who: 'account', body: true, create: true }, (ctx, p, body) => {
    if (p.kind !== 'account') return
    const b = parseBody(createInstanceBody, body)
    const { instance, token } = hub.createInstance(p.accountId, b.name, configFromCreate(b), b.token)
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
    const coding = ctx.acceptEncoding === '' || out.codings === null ? null : pickCoding(ctx.acceptEncoding)
    if (coding === null) {
      if (ctx.ifNoneMatch !== '' && etagMatches(ctx.ifNoneMatch, out.etag)) return sendNotModified(ctx, out.headers)
      return sendBytes(ctx, 200, out.body, out.headers)
    }
    const rep = out.codings!.get(coding)
    if (rep instanceof Promise) return rep.then((r) => answer(ctx, r))
    answer(ctx, rep)
  }
  const answer = (ctx: Ctx, rep: Representation) => {
    if (ctx.ifNoneMatch !== '' && etagMatches(ctx.ifNoneMatch, rep.etag)) return sendNotModified(ctx, rep.notModified)
    sendBytes(ctx, 200, rep.body, rep.headers)
  }
  r.add('get', '/api/instance/list', { compress: true }, list('ryze'))
  r.add('get', '/api/v1/instance/list', { compress: true }, list('wachat'))
}

/** `If-None-Match` names the current ETag (RFC 9110 weak comparison: `W/` is ignored), or is `*`. */
function etagMatches(header: string, etag: string): boolean {
  if (header === etag) return true
  return header.split(',').some((t) => {
    const tag = t.trim()
    return tag === '*' || tag === etag || tag === `W/${etag}`
  })
}
