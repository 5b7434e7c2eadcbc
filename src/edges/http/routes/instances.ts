/**
 * @module Instance create, delete and token rotation (TokenAccount), and the two list views.
 */
import { configFromCreate } from '../../../core/config-updates.js'
import type { Commands } from '../../../hub/commands.js'
import type { Hub, ItemShape } from '../../../hub/hub.js'
import type { Principal } from '../../../hub/model.js'
import type { WhatsAppControl } from '../../../ports/whatsapp.js'
import { webhookOf } from '../../../core/integrations.js'
import { createInstanceBody, listQuery } from '../../../protocol/rest-bodies.js'
import { instanceCreated, instanceDeleted, instanceTokenRotated, ryzeList, wachatList } from '../../../protocol/rest-responses.js'
import { pickCoding } from '../compress.js'
import { etagMatches, sendBytes, sendNotModified, sendOk, sendRepresentation, type Ctx } from '../http.js'
import type { Gate } from '../gate.js'
import type { ListCache } from '../list-cache.js'
import type { Router } from '../route.js'
import { newSigningSecret } from '../../webhooks/signing.js'

export function instanceRoutes(r: Router, hub: Hub, commands: Commands, lists: ListCache, wa: WhatsAppControl | null, gate: Gate): void {
  r.add(
    'post',
    '/api/instance/new',
    {
      tag: 'Instances',
      who: 'account',
      description:
        "Creates an instance in the token's account, with RyzeAPI's optional inline blocks (webhook*, websocket*, chatwoot*, proxy*, the settings fields, s3*). Its TokenInstance is in the answer, shown this once. Counts against the stricter creation limit (HUB_CREATE_RATE_LIMIT_PER_MIN).",
      body: createInstanceBody,
      response: instanceCreated,
      status: 201,
      errors: [409],
      create: true,
      example: { body: { name: 'marketing', keepOnlineStatus: true } },
      // A custom token is a guess at a token when it collides: limited like unauthenticated guesses.
      guard: (ctx, raw) => typeof (raw as { token?: unknown } | null)?.token !== 'string' || gate.allowGuess(ctx),
    },
    async (ctx, p, b) => {
      if (p.kind !== 'account') return
      const config = configFromCreate(b, newSigningSecret())
      const { instance, token } = await commands.createInstance(p.accountId, b.name, config, b.token)
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
    },
  )

  r.add(
    'del',
    '/api/instance/delete/:instance',
    {
      tag: 'Instances',
      who: 'account',
      description: 'Ends the WhatsApp socket, wipes the session and deletes the instance; its TokenInstance stops working.',
      response: instanceDeleted,
    },
    async (ctx, p) => {
      const inst = hub.resolveInstance(p, ctx.params[0]!)
      if (wa !== null) await wa.remove(inst.id)
      // A concurrent request may have deleted it while the socket ended; deleting again is a no-op.
      await commands.deleteInstance(inst.id)
      sendOk(ctx, 'Instance deleted', { instance: { status: 'deleted' } })
    },
  )

  r.add(
    'post',
    '/api/instance/token/:instance',
    {
      tag: 'Instances',
      description: "Rotates the instance's TokenInstance: the new one is in the answer, the old one stops working and its streams close with 4001.",
      response: instanceTokenRotated,
    },
    async (ctx, p) => {
      const inst = hub.resolveInstance(p, ctx.params[0]!)
      const token = await commands.rotateInstanceToken(inst.id)
      sendOk(ctx, 'Instance token rotated', { instance: { id: inst.id, name: inst.name, token } })
    },
  )

  const list = (shape: ItemShape) => (ctx: Ctx, p: Principal, _body: undefined, q: { instanceName?: string | undefined }) => {
    const out = lists.list(shape, p, q.instanceName)
    const coding = ctx.acceptEncoding === '' || out.codings === null ? null : pickCoding(ctx.acceptEncoding)
    if (coding === null) {
      if (ctx.ifNoneMatch !== '' && etagMatches(ctx.ifNoneMatch, out.etag)) return sendNotModified(ctx, out.headers)
      return sendBytes(ctx, 200, out.body, out.headers)
    }
    const rep = out.codings!.get(coding)
    if (rep instanceof Promise) return rep.then((r) => sendRepresentation(ctx, r))
    sendRepresentation(ctx, rep)
  }
  const listSpec = {
    tag: 'Lists',
    query: listQuery,
    errors: [404],
    conditional: true,
    compress: true,
  } as const
  r.add(
    'get',
    '/api/instance/list',
    {
      ...listSpec,
      description:
        "The account's instances in RyzeAPI's list shape. Ordered by id (a TokenInstance: its own instance only), rendered from the in-memory snapshot. `X-Hub-Epoch` / `X-Hub-Seq` give the stream position the body reflects; `If-None-Match` with its ETag answers 304; `Accept-Encoding: br` or `gzip` compresses it.",
      response: ryzeList,
      example: { query: { instanceName: 'sales' } },
    },
    list('ryze'),
  )
  r.add(
    'get',
    '/api/v1/instance/list',
    {
      ...listSpec,
      description: "The account's instances in Wachat's list shape. The same selection, caching, positions and compression as /api/instance/list.",
      response: wachatList,
    },
    list('wachat'),
  )
}
