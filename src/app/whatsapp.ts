/**
 * @module Composes the WhatsApp source: SQLite sessions, a socket factory (Baileys or simulated)
 * and the supervisor. Only the factory differs between the two modes.
 */
import type { AuthSource, BaileysLogger } from '../adapters/baileys/creds.js'
import { baileysLogger } from '../adapters/baileys/logger.js'
import { baileysSocketFactory } from '../adapters/baileys/socket-factory.js'
import { builtInVersion, type VersionSource } from '../adapters/baileys/version.js'
import type { SimTiming } from '../adapters/simulated/simulated-socket.js'
import { Simulator } from '../adapters/simulated/simulator.js'
import type { SimWorld } from '../adapters/simulated/world.js'
import type { Db } from '../adapters/sqlite/db.js'
import { SqliteSessionStore } from '../adapters/sqlite/session-store.js'
import { systemClock, type Clock } from '../ports/clock.js'
import type { SecretBox } from '../ports/secrets.js'
import type { Log, SessionPort, Timers } from '../ports/socket.js'
import type { StatusWriter } from '../ports/whatsapp.js'
import { WhatsAppSupervisor, type SupervisorOptions } from '../sources/whatsapp/supervisor.js'
import { systemTimers } from '../sources/whatsapp/timers.js'

export type WhatsAppMode = 'baileys' | 'simulated'

export interface WhatsAppDeps {
  writer: StatusWriter
  /** The hub's database (wa_creds, wa_keys); unused when `sessions` is given. */
  db?: Db
  /** Where sessions live instead of the database (the cluster's KV store). */
  sessions?: SessionPort & AuthSource
  /** Seals the sessions (the database's box); without it they are stored as they are (tests only). */
  box?: SecretBox
  log: Log
  clock?: Clock
  random?: () => number
  timers?: Timers
  options?: SupervisorOptions
  /** Baileys' own logger; default: pino at BAILEYS_LOG_LEVEL (silent under vitest, else warn). */
  baileysLogger?: BaileysLogger
  /**
   * The WhatsApp Web version of new sockets, fetched before the first socket, daily, and before the
   * 405 retry. Default: Baileys' built-in one, never fetched (production passes latestVersion;
   * simulated sockets ignore it).
   */
  versions?: VersionSource
  /** Baileys mode only. */
  baileys?: {
    /** Tests point this at loopback. Default: WhatsApp's own endpoint. */
    waWebSocketUrl?: string | URL
  }
  /** Simulated mode only: QR windows and refs, latency, backlog and keep-alive timing. */
  simulated?: Partial<SimTiming>
  /** Simulated mode only: the world its sockets share (default: this process's). */
  world?: SimWorld
}

export function createWhatsApp(mode: WhatsAppMode, deps: WhatsAppDeps): WhatsAppSupervisor {
  const logger = deps.baileysLogger ?? baileysLogger()
  const timers = deps.timers ?? systemTimers
  const random = deps.random ?? Math.random
  if (deps.sessions === undefined && deps.db === undefined) throw new Error('createWhatsApp needs a database or a session store')
  const sessions = deps.sessions ?? new SqliteSessionStore(deps.db!, { logger, box: deps.box, ...(deps.clock ? { now: () => deps.clock!.now() } : {}) })
  const versions = deps.versions ?? builtInVersion
  const common = { writer: deps.writer, sessions, version: versions, log: deps.log, timers, random, options: deps.options, clock: deps.clock }
  if (mode === 'simulated') {
    const simulator = new Simulator({ sessions, log: deps.log, logger, timers, random, now: () => (deps.clock ?? systemClock).now(), ...deps.simulated, ...(deps.world ? { world: deps.world } : {}) })
    return new WhatsAppSupervisor({ ...common, factory: simulator.factory, simulator })
  }
  const factory = baileysSocketFactory({
    sessions,
    log: deps.log,
    logger,
    connectTimeoutMs: deps.options?.baileysConnectTimeoutMs,
    waWebSocketUrl: deps.baileys?.waWebSocketUrl,
    version: () => versions.current(),
    now: () => (deps.clock ?? systemClock).now(),
  })
  return new WhatsAppSupervisor({ ...common, factory, simulator: null })
}
