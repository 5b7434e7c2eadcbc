/**
 * @module The logger: pino, JSON lines on stdout.
 */
import pino, { type Logger } from 'pino'

export function createLogger(level: string): Logger {
  return pino({ level, base: { svc: 'statushub' } })
}

export type { Logger }
