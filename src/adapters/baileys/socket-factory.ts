/**
 * @module The production SocketFactory: Baileys' makeWASocket over the instance's saved auth state.
 */
import { Browsers, makeWASocket, proto, type WAVersion } from '@whiskeysockets/baileys'
import type { Log, SocketFactory } from '../../ports/socket.js'
import type { AuthSource, BaileysLogger } from './creds.js'
import { adaptSocket } from './socket-adapter.js'

export interface BaileysFactoryOptions {
  sessions: AuthSource
  log: Log
  /** Baileys' own logger; a child per socket is derived from it. */
  logger: BaileysLogger
  /** Baileys' handshake and query-send timeout. Default 20 s (Baileys' own). */
  connectTimeoutMs?: number
  /** Tests point this at a loopback server; never at WhatsApp. Default: Baileys' wss://web.whatsapp.com/ws/chat. */
  waWebSocketUrl?: string | URL
  /** WhatsApp Web version, read for each new socket (Baileys' built-in one when undefined). */
  version?: () => WAVersion | undefined
}

// Rejects only FULL: rc.9 derives "sync nothing" from syncFullHistory:false, which also drops the
// initial bootstrap that carries the LID mappings and push names.
const skipFullHistory = (msg: proto.Message.IHistorySyncNotification) => msg.syncType !== proto.Message.HistorySyncType.FULL

export function baileysSocketFactory(opts: BaileysFactoryOptions): SocketFactory {
  return ({ instanceId, generation }) => {
    const auth = opts.sessions.auth(instanceId)
    const version = opts.version?.()
    const sock = makeWASocket({
      auth: auth.state,
      logger: opts.logger.child({ instance: instanceId, gen: generation }),
      browser: Browsers.ubuntu('statushub'),
      // Presence is an explicit command (keepOnlineStatus); 'available' would mute the phone's notifications.
      markOnlineOnConnect: false,
      syncFullHistory: false,
      shouldSyncHistoryMessage: skipFullHistory,
      connectTimeoutMs: opts.connectTimeoutMs ?? 20_000,
      ...(opts.waWebSocketUrl === undefined ? {} : { waWebSocketUrl: opts.waWebSocketUrl }),
      ...(version === undefined ? {} : { version }),
    })
    return adaptSocket(sock, generation, { saveCreds: auth.saveCreds, log: opts.log })
  }
}
