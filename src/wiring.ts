/**
 * @module The WhatsApp layer a configuration asks for, attached to the hub: sessions in the hub's
 * database, saved sessions reconnected at start, and no status left claiming a connection that
 * the restart ended.
 */
import type { Logger } from 'pino'
import type { HubConfig } from './config.js'
import type { Hub } from './hub/hub.js'
import type { StartOptions } from './start.js'
import { latestVersion } from './adapters/baileys/version.js'
import { createWhatsApp, type WhatsAppDeps } from './whatsapp.js'

export function whatsappFor(cfg: HubConfig, log: Logger, extra: Partial<WhatsAppDeps> = {}): NonNullable<StartOptions['whatsapp']> {
  return (hub, db) => {
    const waLog = log.child({ mod: 'whatsapp' })
    // Only real sockets need the version WhatsApp Web currently serves (fetched only after a 405).
    const versions = cfg.whatsapp === 'baileys' ? { versions: latestVersion({ log: waLog }) } : {}
    const wa = createWhatsApp(cfg.whatsapp, { writer: hub, db: db.db, log: waLog, ...versions, ...extra })
    const all = hub.listAccounts().flatMap((a) => hub.instancesOf(a))
    wa.restore(all.map((i) => ({ id: i.id, name: i.name, settings: i.config.settings })))
    reconcile(hub, all.filter((i) => wa.machineState(i.id) === undefined).map((i) => i.id))
    return wa
  }
}

/** Instances the snapshot shows as live but that have no socket after a restart are disconnected. */
function reconcile(hub: Hub, idle: number[]): void {
  for (const id of idle) {
    const s = hub.getInstance(id)?.status
    if (s === undefined || (s.state !== 'connected' && s.state !== 'connecting')) continue
    hub.updateStatus(id, {
      state: 'disconnected',
      displayStatus: 'Disconnected (hub restarted without a saved session)',
      reason: { code: null, name: 'hubRestarted', message: 'The hub restarted and this instance has no saved session' },
      retryAt: null,
      presenceStatus: 'unavailable',
    })
  }
}
