/**
 * @module The production SocketFactory: Baileys' makeWASocket over the instance's saved auth state,
 * through the instance's proxy, with the settings that act on the socket.
 */
import { Browsers, makeWASocket, proto, type UserFacingSocketConfig, type WAVersion } from '@whiskeysockets/baileys'
import type { Agent } from 'node:https'
import type { SettingsConfig } from '../../core/integrations.js'
import type { Log, SocketFactory } from '../../ports/socket.js'
import type { AuthSource, BaileysLogger } from './creds.js'
import { proxyRoute, type ProxyRoute } from './proxy.js'
import { adaptSocket, type BaileysSocketLike } from './socket-adapter.js'

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
  /** The runner's clock, for frame times. */
  now: () => number
}

/**
 * Baileys' history-sync filter for the instance's current settings. `disableHistorySync` syncs
 * nothing; otherwise only FULL is refused: rc.9 derives "sync nothing" from syncFullHistory:false,
 * which also drops the initial bootstrap that carries the LID mappings and push names.
 */
export function historyFilter(settings: () => Pick<SettingsConfig, 'disableHistorySync'>) {
  return (msg: proto.Message.IHistorySyncNotification): boolean =>
    !settings().disableHistorySync && msg.syncType !== proto.Message.HistorySyncType.FULL
}

/** Baileys' socket config for one socket of an instance, and the proxy route it uses (null: direct). */
export function socketConfig(
  opts: BaileysFactoryOptions,
  args: Parameters<SocketFactory>[0],
): { config: UserFacingSocketConfig; route: ProxyRoute | null } {
  const { instanceId, generation, options } = args
  const route = options.proxy === null ? null : proxyRoute(options.proxy)
  const version = opts.version?.()
  const config: UserFacingSocketConfig = {
    auth: opts.sessions.auth(instanceId).state,
    logger: opts.logger.child({ instance: instanceId, gen: generation }),
    browser: Browsers.ubuntu('statushub'),
    // Presence is an explicit command (keepOnlineStatus); 'available' would mute the phone's notifications.
    markOnlineOnConnect: false,
    syncFullHistory: false,
    shouldSyncHistoryMessage: historyFilter(options.settings),
    connectTimeoutMs: opts.connectTimeoutMs ?? 20_000,
    ...(opts.waWebSocketUrl === undefined ? {} : { waWebSocketUrl: opts.waWebSocketUrl }),
    ...(version === undefined ? {} : { version }),
    ...(route === null
      ? {}
      : {
          // Typed as an https.Agent; any Node agent works for ws (https-proxy-agent, socks-proxy-agent).
          agent: route.agent as Agent,
          // Typed as an https.Agent, but rc.9 passes it to fetch as the undici dispatcher (uploads).
          fetchAgent: route.dispatcher as unknown as Agent,
          // Downloads (media, history-sync and app-state blobs) spread `options` into fetch.
          options: { dispatcher: route.dispatcher } as RequestInit,
        }),
  }
  return { config, route }
}

export function baileysSocketFactory(opts: BaileysFactoryOptions): SocketFactory {
  return (args) => {
    const { config, route } = socketConfig(opts, args)
    const auth = opts.sessions.auth(args.instanceId)
    const sock = makeWASocket(config)
    return adaptSocket(sock as unknown as BaileysSocketLike, args.generation, {
      saveCreds: auth.saveCreds,
      log: opts.log,
      now: opts.now,
      proxy: route?.endpoint ?? null,
      settings: args.options.settings,
    })
  }
}
