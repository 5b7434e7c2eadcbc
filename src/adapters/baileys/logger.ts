/**
 * @module The pino logger handed to Baileys: silent under tests, level from BAILEYS_LOG_LEVEL.
 */
import pino from 'pino'
import type { BaileysLogger } from './creds.js'

export function baileysLogger(level = process.env.BAILEYS_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'warn')): BaileysLogger {
  return pino({ level, base: { component: 'baileys' } })
}
