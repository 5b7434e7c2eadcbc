import { proto } from '@whiskeysockets/baileys'
import { describe, expect, it } from 'vitest'
import { historyFilter } from './socket-factory.js'

const T = proto.Message.HistorySyncType

describe('historyFilter (Baileys’ shouldSyncHistoryMessage)', () => {
  it('syncs nothing while disableHistorySync is on, and every chunk but FULL once it is off, read at each chunk', () => {
    const settings = { disableHistorySync: true }
    const filter = historyFilter(() => settings)
    expect([T.INITIAL_BOOTSTRAP, T.RECENT, T.FULL, T.PUSH_NAME].map((syncType) => filter({ syncType }))).toEqual([false, false, false, false])
    settings.disableHistorySync = false
    expect([T.INITIAL_BOOTSTRAP, T.RECENT, T.FULL, T.PUSH_NAME].map((syncType) => filter({ syncType }))).toEqual([true, true, false, true])
  })
})
