/**
 * @module The WhatsApp Web version Baileys announces. WhatsApp answers a stale one with 405; the
 * runner refreshes it before the 405 retry, and the socket factory reads it for each new socket.
 */
import { fetchLatestWaWebVersion, type WAVersion } from '@whiskeysockets/baileys'
import type { Log, VersionPort } from '../../ports/socket.js'

export interface VersionSource extends VersionPort {
  /** undefined: Baileys' built-in version. */
  current(): WAVersion | undefined
}

/** Keeps Baileys' built-in version and never fetches (simulated mode, tests). */
export const builtInVersion: VersionSource = {
  current: () => undefined,
  refresh: async () => undefined,
}

export type FetchLatest = (options: { signal: AbortSignal }) => Promise<{ version: WAVersion; isLatest: boolean; error?: unknown }>

export interface LatestVersionOptions {
  log: Log
  /** Default: Baileys' fetchLatestWaWebVersion (GET https://web.whatsapp.com/sw.js). */
  fetchLatest?: FetchLatest
  /** Default 15 s. */
  timeoutMs?: number
}

/** Production: the version WhatsApp Web itself currently serves. */
export function latestVersion(opts: LatestVersionOptions): VersionSource {
  const fetchLatest = opts.fetchLatest ?? fetchLatestWaWebVersion
  let version: WAVersion | undefined
  return {
    current: () => version,
    refresh: async () => {
      try {
        const r = await fetchLatest({ signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000) })
        // Without isLatest the answer is Baileys' built-in version: keep what is in use.
        if (!r.isLatest) {
          opts.log.warn({ err: r.error }, 'could not read the current WhatsApp Web version')
          return
        }
        version = r.version
        opts.log.info({ version }, 'WhatsApp Web version refreshed')
      } catch (err) {
        opts.log.warn({ err }, 'could not read the current WhatsApp Web version')
      }
    },
  }
}
