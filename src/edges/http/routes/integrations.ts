/**
 * @module Integration settings of one instance, read and upsert (TokenAccount or the instance's
 * own TokenInstance). Secrets are accepted but never returned; a webhook's signing secret is
 * answered once, when it is created or rotated.
 */
import { withProxy, withS3, withSettings, withWebhook, withWebsocket } from '../../../core/config-updates.js'
import { HubError, MSG } from '../../../core/errors.js'
import {
  proxySummary,
  s3Summary,
  settingsSummary,
  webhookSummary,
  websocketSummary,
  webhookOf,
} from '../../../core/integrations.js'
import type { WhatsAppControl } from '../../../ports/whatsapp.js'
import type { Hub } from '../../../hub/hub.js'
import { proxyBody, s3Body, settingsBody, webhookBody, websocketBody } from '../../../protocol/rest-bodies.js'
import { sendOk } from '../http.js'
import type { Router } from '../route.js'
import { newSigningSecret } from '../../webhooks/signing.js'
import { parseBody } from './parse.js'

export function integrationRoutes(r: Router, hub: Hub, wa: WhatsAppControl | null): void {
  r.add('post', '/api/instance/settings/:instance', { body: true }, (ctx, p, body) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    hub.updateConfig(inst.id, withSettings(inst.config, parseBody(settingsBody, body)))
    wa?.settingsChanged({ id: inst.id, name: inst.name, settings: inst.config.settings, proxy: inst.config.proxy })
    sendOk(ctx, 'Settings updated', { settings: settingsSummary(inst.config.settings) })
  })
  r.add('get', '/api/instance/getSettings/:instance', {}, (ctx, p) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    sendOk(ctx, 'Settings retrieved', { settings: settingsSummary(inst.config.settings) })
  })

  r.add('post', '/api/instance/proxy/:instance', { body: true }, (ctx, p, body) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    hub.updateConfig(inst.id, withProxy(inst.config, parseBody(proxyBody, body)))
    wa?.settingsChanged({ id: inst.id, name: inst.name, settings: inst.config.settings, proxy: inst.config.proxy })
    // A live socket keeps the route it was created with.
    sendOk(ctx, 'Proxy configuration updated; it applies from the next connection (reconnect to use it now)', { proxy: proxySummary(inst.config.proxy) })
  })
  r.add('get', '/api/instance/getProxy/:instance', {}, (ctx, p) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    sendOk(ctx, 'Proxy configuration retrieved successfully', { proxy: proxySummary(inst.config.proxy) })
  })

  r.add('post', '/api/instance/s3/:instance', { body: true }, (ctx, p, body) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    hub.updateConfig(inst.id, withS3(inst.config, parseBody(s3Body, body)))
    sendOk(ctx, 'S3 configuration updated', { s3: s3Summary(inst.config.s3) })
  })
  r.add('get', '/api/instance/getS3/:instance', {}, (ctx, p) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    sendOk(ctx, 'S3 configuration retrieved', { s3: s3Summary(inst.config.s3) })
  })

  r.add('post', '/api/events/webhook/:instance', { body: true }, (ctx, p, body) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    const b = parseBody(webhookBody, body)
    const before = webhookOf(inst.config, b.label)?.signingSecret ?? ''
    hub.updateConfig(inst.id, withWebhook(inst.config, b, newSigningSecret()))
    const hook = webhookOf(inst.config, b.label)!
    // The signing secret is shown once: when the label is first enabled, or rotated.
    const shown = hook.signingSecret !== '' && hook.signingSecret !== before ? { signingSecret: hook.signingSecret } : {}
    sendOk(ctx, 'Webhook configured', { webhook: webhookSummary(hook), ...shown })
  })
  r.add('get', '/api/events/getWebhook/:instance', {}, (ctx, p) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    const label = ctx.query.get('label')
    if (label !== null) {
      const hook = webhookOf(inst.config, label)
      if (hook === undefined) throw new HubError('notFound', 'Webhook not found')
      return sendOk(ctx, 'Webhook retrieved', { webhook: webhookSummary(hook) })
    }
    const hooks = Object.values(inst.config.webhooks)
      .sort((a, b) => a.label.localeCompare(b.label))
      .map(webhookSummary)
    sendOk(ctx, `${hooks.length} ${hooks.length === 1 ? 'Webhook' : 'Webhooks'} found`, { webhooks: hooks })
  })

  r.add('post', '/api/events/websocket/:instance', { body: true }, (ctx, p, body) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    hub.updateConfig(inst.id, withWebsocket(inst.config, parseBody(websocketBody, body)))
    sendOk(ctx, 'WebSocket configured', { websocket: websocketSummary(inst.config.websocket) })
  })
  r.add('get', '/api/events/getWebsocket/:instance', {}, (ctx, p) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    if (!inst.config.websocket.configured) throw new HubError('notFound', MSG.websocketNotConfigured)
    sendOk(ctx, 'WebSocket configuration retrieved', { websocket: websocketSummary(inst.config.websocket) })
  })
}
