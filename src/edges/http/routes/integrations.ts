/**
 * @module Integration settings of one instance, read and upsert (TokenAccount or the instance's
 * own TokenInstance). Secrets are accepted but never returned; a webhook's signing secret is
 * answered once, when it is created or rotated.
 */
import { HubError, MSG } from '../../../core/errors.js'
import {
  proxySummary,
  s3Summary,
  settingsSummary,
  webhookOf,
  webhookSummary,
  websocketSummary,
} from '../../../core/integrations.js'
import type { WhatsAppControl } from '../../../ports/whatsapp.js'
import type { Commands } from '../../../hub/commands.js'
import type { Hub } from '../../../hub/hub.js'
import { proxyBody, s3Body, settingsBody, webhookBody, webhookQuery, websocketBody } from '../../../protocol/rest-bodies.js'
import * as res from '../../../protocol/rest-responses.js'
import { sendOk } from '../http.js'
import type { Router } from '../route.js'

const tag = 'Integration settings'

export function integrationRoutes(r: Router, hub: Hub, commands: Commands, wa: WhatsAppControl | null): void {
  r.add(
    'post',
    '/api/instance/settings/:instance',
    {
      tag,
      description: `Updates the behaviour flags given (the others keep their values). keepOnlineStatus, disableHistorySync and autoRejectCalls (with callRejectMessage) act on the WhatsApp socket. ignoreGroupMessages, autoReadMessages and ignoreStatus: ${res.STORED_ONLY}`,
      body: settingsBody,
      response: res.settingsUpdated,
      example: { body: { keepOnlineStatus: true, autoRejectCalls: false } },
    },
    async (ctx, p, b) => {
      const inst = await commands.updateConfig(hub.resolveInstance(p, ctx.params[0]!).id, { kind: 'settings', settings: b })
      wa?.settingsChanged({ id: inst.id, name: inst.name, settings: inst.config.settings, proxy: inst.config.proxy })
      sendOk(ctx, 'Settings updated', { settings: settingsSummary(inst.config.settings) })
    },
  )
  r.add('get', '/api/instance/getSettings/:instance', { tag, description: "The instance's behaviour flags.", response: res.settingsRead }, (ctx, p) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    sendOk(ctx, 'Settings retrieved', { settings: settingsSummary(inst.config.settings) })
  })

  r.add(
    'post',
    '/api/instance/proxy/:instance',
    {
      tag,
      description: "Sets the proxy the instance's WhatsApp socket goes through, used from its next socket on. The password is stored, never returned.",
      body: proxyBody,
      response: res.proxyUpdated,
      example: { body: { enabled: false } },
    },
    async (ctx, p, b) => {
      const inst = await commands.updateConfig(hub.resolveInstance(p, ctx.params[0]!).id, { kind: 'proxy', proxy: b })
      wa?.settingsChanged({ id: inst.id, name: inst.name, settings: inst.config.settings, proxy: inst.config.proxy })
      // A live socket keeps the route it was created with.
      sendOk(ctx, 'Proxy configuration updated; it applies from the next connection (reconnect to use it now)', { proxy: proxySummary(inst.config.proxy) })
    },
  )
  r.add('get', '/api/instance/getProxy/:instance', { tag, description: "The instance's proxy, without its password.", response: res.proxyRead }, (ctx, p) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    sendOk(ctx, 'Proxy configuration retrieved successfully', { proxy: proxySummary(inst.config.proxy) })
  })

  r.add(
    'post',
    '/api/instance/s3/:instance',
    {
      tag,
      description: `Sets the S3 block. ${res.STORED_ONLY} The secret key is stored, never returned.`,
      body: s3Body,
      response: res.s3Updated,
      example: { body: { enabled: false } },
    },
    async (ctx, p, b) => {
      const inst = await commands.updateConfig(hub.resolveInstance(p, ctx.params[0]!).id, { kind: 's3', s3: b })
      sendOk(ctx, 'S3 configuration updated', { s3: s3Summary(inst.config.s3) })
    },
  )
  r.add('get', '/api/instance/getS3/:instance', { tag, description: `The S3 block (secretKey always null). ${res.STORED_ONLY}`, response: res.s3Read }, (ctx, p) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    sendOk(ctx, 'S3 configuration retrieved', { s3: s3Summary(inst.config.s3) })
  })

  r.add(
    'post',
    '/api/events/webhook/:instance',
    {
      tag,
      description:
        'Creates or updates one webhook by its label (default `default`); up to 3 may be enabled. The authorization value is stored, never returned. `signingSecret` (Standard Webhooks, `whsec_…`) is answered once: when a label is first enabled, or with `rotateSecret: true`.',
      body: webhookBody,
      response: res.webhookUpdated,
      example: { body: { enabled: false, url: 'https://hooks.example.com/statushub' } },
    },
    async (ctx, p, b) => {
      const target = hub.resolveInstance(p, ctx.params[0]!)
      const before = webhookOf(target.config, b.label)?.signingSecret ?? ''
      const inst = await commands.updateConfig(target.id, { kind: 'webhook', webhook: b })
      const hook = webhookOf(inst.config, b.label)!
      // The signing secret is shown once: when the label is first enabled, or rotated.
      const shown = hook.signingSecret !== '' && hook.signingSecret !== before ? { signingSecret: hook.signingSecret } : {}
      sendOk(ctx, 'Webhook configured', { webhook: webhookSummary(hook), ...shown })
    },
  )
  r.add(
    'get',
    '/api/events/getWebhook/:instance',
    {
      tag,
      description: "The instance's webhooks ordered by label, or the one `label` names (404 `Webhook not found` when none has it).",
      query: webhookQuery,
      response: res.webhookRead,
    },
    (ctx, p, _b, q) => {
      const inst = hub.resolveInstance(p, ctx.params[0]!)
      if (q.label !== undefined) {
        const hook = webhookOf(inst.config, q.label)
        if (hook === undefined) throw new HubError('notFound', 'Webhook not found')
        return sendOk(ctx, 'Webhook retrieved', { webhook: webhookSummary(hook) })
      }
      const hooks = Object.values(inst.config.webhooks)
        .sort((a, b) => a.label.localeCompare(b.label))
        .map(webhookSummary)
      sendOk(ctx, `${hooks.length} ${hooks.length === 1 ? 'Webhook' : 'Webhooks'} found`, { webhooks: hooks })
    },
  )

  r.add(
    'post',
    '/api/events/websocket/:instance',
    {
      tag,
      description: "Sets the websocket block: enabled with the `instance.state` event, it opens RyzeAPI's `GET /ws/:instance` socket.",
      body: websocketBody,
      response: res.websocketUpdated,
      example: { body: { enabled: true, events: ['instance.state'] } },
    },
    async (ctx, p, b) => {
      const inst = await commands.updateConfig(hub.resolveInstance(p, ctx.params[0]!).id, { kind: 'websocket', websocket: b })
      sendOk(ctx, 'WebSocket configured', { websocket: websocketSummary(inst.config.websocket) })
    },
  )
  r.add(
    'get',
    '/api/events/getWebsocket/:instance',
    {
      tag,
      description: `The websocket block; 404 \`${MSG.websocketNotConfigured}\` until it was set once (as RyzeAPI answers).`,
      response: res.websocketRead,
    },
    (ctx, p) => {
      const inst = hub.resolveInstance(p, ctx.params[0]!)
      if (!inst.config.websocket.configured) throw new HubError('notFound', MSG.websocketNotConfigured)
      sendOk(ctx, 'WebSocket configuration retrieved', { websocket: websocketSummary(inst.config.websocket) })
    },
  )
}
