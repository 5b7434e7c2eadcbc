/**
 * The WhatsApp Web version source with an injected fetcher: nothing here contacts WhatsApp.
 */
import type { WAVersion } from '@whiskeysockets/baileys'
import { describe, expect, it } from 'vitest'
import { builtInVersion, latestVersion, type FetchLatest } from './version.js'
const silentLog = { debug() {}, info() {}, warn() {}, error() {} }

const BUILT_IN: WAVersion = [2, 3000, 1027934701]

function fetcher(answers: (Awaited<ReturnType<FetchLatest>> | Error)[]): FetchLatest & { calls: number } {
  const f = Object.assign(
    async () => {
      const a = answers[f.calls++]
      if (a === undefined || a instanceof Error) throw a ?? new Error('no answer scripted')
      return a
    },
    { calls: 0 },
  )
  return f
}

describe('latestVersion', () => {
  it('uses Baileys’ built-in version until a refresh succeeds, then the fetched one', async () => {
    const fetchLatest = fetcher([{ version: [2, 3000, 1030000000], isLatest: true }])
    const v = latestVersion({ log: silentLog, fetchLatest })
    expect(v.current()).toBeUndefined()
    await v.refresh()
    expect([fetchLatest.calls, v.current()]).toEqual([1, [2, 3000, 1030000000]])
  })

  it('keeps the version in use when the fetch fails or finds no client revision', async () => {
    const fetchLatest = fetcher([
      { version: [2, 3000, 1030000000], isLatest: true },
      new Error('getaddrinfo ENOTFOUND web.whatsapp.com'),
      { version: BUILT_IN, isLatest: false, error: { message: 'Could not find client revision in the fetched content' } },
    ])
    const v = latestVersion({ log: silentLog, fetchLatest })
    await v.refresh()
    await expect(v.refresh()).resolves.toBeUndefined()
    await v.refresh()
    expect([fetchLatest.calls, v.current()]).toEqual([3, [2, 3000, 1030000000]])
  })

  it('passes an abort signal so a hanging fetch cannot stall the retry', async () => {
    let signal: AbortSignal | undefined
    const v = latestVersion({
      log: silentLog,
      fetchLatest: async (o) => {
        signal = o.signal
        return { version: BUILT_IN, isLatest: true }
      },
    })
    await v.refresh()
    expect(signal).toBeInstanceOf(AbortSignal)
  })
})

describe('builtInVersion', () => {
  it('never changes the version', async () => {
    await builtInVersion.refresh()
    expect(builtInVersion.current()).toBeUndefined()
  })
})
