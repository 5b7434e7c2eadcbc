/**
 * What rc.9 really does in the cases users care about most (docs/baileys-rc9.md), replayed through
 * Baileys' own event emitter, the adapter and the runner with manual time: network, TLS and proxy
 * failures, the uncleared QR timer, restart loops, close details, profile queries that time out,
 * presence that Baileys only echoes, frames and silence, calls.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { HubError } from '../../src/core/errors.js'
import { boom } from './fake-baileys-socket.js'
import { ref, settle, T0 } from './helpers.js'
import { CONNECTING, ENOTFOUND, iso, JID, PAIR_SUCCESS, QR1, Recorded, RESTART_REQUIRED, SELF_SIGNED, systemError } from './recorded-harness.js'

let h: Recorded
beforeEach(() => {
  h = new Recorded()
})
afterEach(() => h.close())

/** Closes every socket the runner creates with `err()` until `ms` have passed. */
async function failFor(ms: number, err: () => Error): Promise<void> {
  const end = h.time.now() + ms
  while (h.time.now() < end) {
    const s = h.last()
    if (!s.closed) {
      s.update(CONNECTING)
      s.closeWith(err())
    }
    const next = h.time.pendingDelays()[0] ?? end - h.time.now()
    await h.time.advance(Math.min(next, end - h.time.now()))
  }
}

class SocksClientError extends Error {}

describe('network failures are not the QR’s fault', () => {
  it('no route to WhatsApp before any QR: /connect waits through the retries and answers 504 with the reason, never "QR expired"', async () => {
    const pending = h.wa.connect(ref(1), { timeoutMs: 60_000 }).catch((err: unknown) => err)
    await settle()
    await failFor(60_000, ENOTFOUND)
    expect(await pending).toEqual(new HubError('timeout', "Timed out waiting for a QR code: Can't reach WhatsApp (getaddrinfo ENOTFOUND web.whatsapp.com)"))
    expect(h.writer.displays(1)).not.toContain('Disconnected (QR expired)')
    expect(h.writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: 408, name: 'unreachable', message: 'WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)' },
      closeDetail: 'ENOTFOUND: getaddrinfo ENOTFOUND web.whatsapp.com',
      event: 'connecting',
    })
    expect(h.writer.status(1).displayStatus).toMatch(/^Can't reach WhatsApp \(getaddrinfo ENOTFOUND web\.whatsapp\.com\), retrying in \d+s$/)
    expect(h.wa.machineState(1)).toMatchObject({ unpairedTries: 0 })
    // It still retries after the request gave up, and shows a QR once the network is back.
    const s = h.last()
    await h.time.advance(h.time.pendingDelays()[0]!)
    expect(h.last()).not.toBe(s)
    h.last().update(CONNECTING)
    h.last().update({ qr: QR1 })
    expect(h.writer.status(1).displayStatus).toBe('Waiting for QR scan')
  })

  it('a TLS-intercepting proxy (500 "self-signed certificate") never parks a paired session as needing a re-pair', async () => {
    await h.openFromSavedSession()
    h.last().closeWith(SELF_SIGNED())
    await failFor(600_000, SELF_SIGNED)
    expect(h.wa.machineState(1)).toMatchObject({ phase: 'RECONNECT_WAIT', badSessions: 0 })
    expect(h.writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: 500, name: 'tlsError', message: 'WebSocket Error (self-signed certificate)' },
      closeDetail: 'DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate',
      displayStatus: 'Secure connection to WhatsApp failed (self-signed certificate), retrying in 45s',
    })
    expect(h.writer.displays(1).some((d) => d.startsWith('Needs attention'))).toBe(false)
  })

  it('a bad Sec-WebSocket-Accept (500 without a code) is a TLS/handshake error, not a bad session', async () => {
    await h.openFromSavedSession()
    for (let i = 0; i < 6; i++) {
      h.last().closeWith(boom(500, 'WebSocket Error (Invalid Sec-WebSocket-Accept header)', new Error('Invalid Sec-WebSocket-Accept header')))
      await h.time.advance(h.time.pendingDelays()[0]!)
    }
    expect(h.writer.status(1)).toMatchObject({ reason: { name: 'tlsError' }, state: 'connecting' })
    expect(h.wa.machineState(1)?.badSessions).toBe(0)
  })

  it('a refused SOCKS proxy (500, SocksClientError) is proxyUnreachable', async () => {
    const viaSocks = ref(1, false, { proxy: { enabled: true, protocol: 'socks5', host: '127.0.0.1', port: '1080' } })
    await h.openFromSavedSession(viaSocks)
    h.last().closeWith(boom(500, 'WebSocket Error (connect ECONNREFUSED 127.0.0.1:1080)', new SocksClientError('connect ECONNREFUSED 127.0.0.1:1080')))
    expect(h.writer.status(1)).toMatchObject({
      reason: { code: 500, name: 'proxyUnreachable', message: 'WebSocket Error (connect ECONNREFUSED 127.0.0.1:1080)' },
      displayStatus: "Can't reach the proxy (connect ECONNREFUSED 127.0.0.1:1080), retrying in 1s",
    })
  })

  it('an HTTP proxy that refuses the port is named by the address in the error', async () => {
    const viaHttp = ref(1, false, { proxy: { enabled: true, protocol: 'http', host: '127.0.0.1', port: '3128' } })
    await h.openFromSavedSession(viaHttp)
    h.last().closeWith(
      boom(408, 'WebSocket Error (connect ECONNREFUSED 127.0.0.1:3128)', systemError('connect ECONNREFUSED 127.0.0.1:3128', { code: 'ECONNREFUSED', address: '127.0.0.1', port: 3128 })),
    )
    expect(h.writer.status(1).reason?.name).toBe('proxyUnreachable')
  })

  it('an upgrade answered without 101 (Baileys hangs on it) is ended at once as unreachable; a proxy’s 407 as proxyUnreachable', async () => {
    await h.openFromSavedSession()
    h.last().closeWith(boom(428, 'Connection Terminated'))
    await h.time.advance(750)
    h.last().update(CONNECTING)
    h.last().ws.emit('unexpected-response', {}, { statusCode: 403, statusMessage: 'Forbidden' })
    expect(h.writer.status(1)).toMatchObject({
      reason: { code: 408, name: 'unreachable', message: 'WebSocket Error (Unexpected server response: 403 Forbidden)' },
      closeDetail: 'HUB_UNEXPECTED_RESPONSE: Unexpected server response: 403 Forbidden',
    })

    const viaHttp = ref(1, false, { proxy: { enabled: true, protocol: 'http', host: '127.0.0.1', port: '3128' } })
    h.wa.settingsChanged(viaHttp)
    await h.time.advance(h.time.pendingDelays()[0]!)
    h.last().update(CONNECTING)
    h.last().ws.emit('unexpected-response', {}, { statusCode: 407, statusMessage: 'Proxy Authentication Required' })
    expect(h.writer.status(1)).toMatchObject({
      reason: { name: 'proxyUnreachable', message: 'WebSocket Error (Proxy refused: 407 Proxy Authentication Required)' },
      displayStatus: "Can't reach the proxy (Proxy refused: 407 Proxy Authentication Required), retrying in 3s",
    })
  })

  it('a proxy change applies to the next socket, not the live one', async () => {
    const s = await h.openFromSavedSession()
    h.wa.settingsChanged(ref(1, false, { proxy: { enabled: true, protocol: 'socks5', host: '127.0.0.1', port: '1080' } }))
    expect(h.last()).toBe(s)
    s.closeWith(boom(428, 'Connection Terminated'))
    await h.time.advance(750)
    // Only a socket created with a proxy names the proxy in its watchdog close.
    h.last().update(CONNECTING)
    await h.time.advance(55_000)
    expect(h.writer.status(1).reason).toEqual({ code: null, name: 'proxyUnreachable', message: 'no answer within 55 s' })
  })
})

describe('pairing as rc.9 really does it', () => {
  it('a 408 "QR refs attempts ended" after pair-success (the uncleared QR timer) restarts and connects, and a stale QR after it is ignored', async () => {
    const pending = h.wa.connect(ref(1), { timeoutMs: 60_000 })
    await settle()
    const s1 = h.last()
    s1.update(CONNECTING)
    s1.update({ qr: QR1 })
    await pending
    s1.emit('creds.update', PAIR_SUCCESS)
    s1.update({ isNewLogin: true, qr: undefined })
    s1.update({ qr: '2@ref2,stale' })
    s1.closeWith(boom(408, 'QR refs attempts ended'))
    expect(h.writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: 408, name: 'restartRequired', message: 'QR refs attempts ended' },
      displayStatus: 'Connecting…',
      event: 'pair_success',
      numberJid: JID,
    })
    expect(h.writer.displays(1)).not.toContain('Disconnected (QR expired)')
    await h.time.advance(125)
    await h.login(h.last())
    expect(h.writer.status(1)).toMatchObject({ state: 'connected', displayStatus: 'Online' })
  })

  it('a server that keeps asking for 515 restarts is backed off after three', async () => {
    await h.openFromSavedSession()
    const delays: number[] = []
    for (let i = 0; i < 5; i++) {
      h.last().closeWith(RESTART_REQUIRED())
      delays.push(h.time.pendingDelays()[0]!)
      await h.time.advance(delays[i]!)
      await h.login(h.last())
    }
    expect(delays).toEqual([125, 125, 125, 750, 1_500])
    expect(h.writer.status(1).state).toBe('connected')
  })

  it('publishes the close detail: device_removed for an unlink on the phone, the ban terms of a 402', async () => {
    const s = await h.openFromSavedSession()
    s.closeWith(boom(402, 'Connection Failure', { reason: '402', location: 'frc', code: '101', expire: '86400' }))
    expect(h.writer.status(1)).toMatchObject({
      state: 'disconnected',
      displayStatus: 'Blocked (temporarily banned)',
      closeDetail: 'reason 402, code 101, expires in 86400s, at frc',
      event: 'temp_banned',
    })
    await h.wa.reconnect(ref(1))
    await settle()
    await h.login(h.last())
    h.last().closeWith(boom(401, 'Stream Errored (conflict)', { tag: 'conflict', attrs: { type: 'device_removed' } }))
    expect(h.writer.status(1)).toMatchObject({ state: 'loggedout', closeDetail: 'conflict:device_removed' })
  })
})

describe('the signals a monitor needs', () => {
  it('synced follows receivedPendingNotifications, and historySync the history chunks', async () => {
    await h.savePaired()
    await h.wa.reconnect(ref(1))
    await settle()
    const s = h.last()
    s.update(CONNECTING)
    s.update({ connection: 'open' })
    expect(h.writer.status(1)).toMatchObject({ state: 'connected', synced: false, historySync: null })
    s.update({ receivedPendingNotifications: true })
    expect(h.writer.status(1).synced).toBe(true)
    s.emit('messaging-history.set', { chats: [], contacts: [], messages: [], isLatest: true, progress: 35, syncType: 3 })
    expect(h.writer.status(1).historySync).toEqual({ progress: 35, isLatest: true })
    s.closeWith(boom(428, 'Connection Terminated'))
    expect(h.writer.status(1)).toMatchObject({ synced: false, historySync: null })
  })

  it('counts frames: liveness reports the last one, and a socket silent for 120 s is restarted as "silent"', async () => {
    const s = await h.openFromSavedSession()
    expect(h.wa.liveness(1)).toEqual({ lastFrameAt: T0 })
    await h.time.advance(100_000)
    s.frame()
    expect(h.wa.liveness(1)).toEqual({ lastFrameAt: T0 + 100_000 })
    await h.time.advance(119_999)
    expect(s.called('end')).toEqual([])
    await h.time.advance(1)
    expect(s.called('end')).toEqual([[undefined]])
    expect(h.writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: null, name: 'silent', message: 'Nothing received from WhatsApp for 120 s' },
      displayStatus: 'Reconnecting (no data received), attempt 1',
      event: 'keepalive_timeout',
    })
    // The last frame outlives its socket.
    expect(h.wa.liveness(1)).toEqual({ lastFrameAt: T0 + 100_000 })
    await h.time.advance(750)
    await h.login(h.last())
    expect(h.writer.status(1).event).toBe('keepalive_restored')
  })

  it('takes HUB_SILENT_AFTER_MS from the options', async () => {
    await h.close()
    h = new Recorded({ silentAfterMs: 5_000 })
    const s = await h.openFromSavedSession()
    await h.time.advance(5_000)
    expect(s.called('end')).toEqual([[undefined]])
    expect(h.writer.status(1).reason?.name).toBe('silent')
  })

  it('the reconnect endpoint publishes manual_reconnect', async () => {
    const s = await h.openFromSavedSession()
    s.closeWith(boom(428, 'Connection Terminated'))
    await h.wa.reconnect(ref(1))
    expect(h.writer.status(1)).toMatchObject({ state: 'connecting', displayStatus: 'Connecting…', event: 'manual_reconnect' })
  })
})

describe('profile', () => {
  it('a picture query that times out (408) keeps the known picture; no <picture> means none', async () => {
    const s = await h.openFromSavedSession()
    expect(h.writer.status(1).profile.pictureUrl).toBe('https://pps.example/me.jpg')
    s.pictureUrl = boom(408, 'Timed Out', { stack: 'x' })
    s.emit('contacts.update', [{ id: JID, imgUrl: 'changed' }])
    await settle()
    expect(h.writer.status(1).profile.pictureUrl).toBe('https://pps.example/me.jpg')
    s.pictureUrl = boom(500, 'item-not-found', 404)
    s.emit('contacts.update', [{ id: JID, imgUrl: 'removed' }])
    await settle()
    expect(h.writer.status(1).profile.pictureUrl).toBeNull()
  })

  it('a CDN picture is fetched again an hour before its oe= expiry', async () => {
    await h.close()
    h = new Recorded({ silentAfterMs: 86_400_000 })
    const s = await h.openFromSavedSession()
    const url = `https://pps.whatsapp.net/v/t61.24694-24/1_2_3_n.jpg?ccb=11-4&oh=01_Q5&oe=${((T0 + 3 * 3_600_000) / 1000).toString(16).toUpperCase()}&_nc_sid=5e03e0`
    s.pictureUrl = url
    s.emit('contacts.update', [{ id: JID, imgUrl: 'changed' }])
    await settle()
    expect(h.writer.status(1).profile.pictureUrl).toBe(url)
    const fresh = 'https://pps.whatsapp.net/v/t61.24694-24/1_2_3_n.jpg?oh=01_R6&oe=7FFFFFFF'
    s.pictureUrl = fresh
    await h.time.advance(2 * 3_600_000 - 1)
    expect(s.called('profilePictureUrl')).toHaveLength(2)
    await h.time.advance(1)
    expect(s.called('profilePictureUrl')).toHaveLength(3)
    expect(h.writer.status(1).profile.pictureUrl).toBe(fresh)
  })

  it('a business account takes its verified name from WhatsApp, never the push name, and keeps it when the query fails', async () => {
    const s = await h.openFromSavedSession(ref(1), { platform: 'smba', me: { name: 'Ana' } })
    expect(h.writer.status(1).profile).toMatchObject({ name: 'Ana', isBusiness: true, businessName: '' })
    s.verifiedName = 'Ana Bakery Ltd'
    s.emit('contacts.update', [{ id: JID, imgUrl: 'changed' }])
    await settle()
    expect(h.writer.status(1).profile).toMatchObject({ name: 'Ana', isBusiness: true, businessName: 'Ana Bakery Ltd' })
    expect(s.called('executeUSyncQuery').at(-1)).toEqual([JID, ['business']])
    s.verifiedName = new Error('no answer')
    s.emit('contacts.update', [{ id: JID, imgUrl: 'changed' }])
    await settle()
    expect(h.writer.status(1).profile.businessName).toBe('Ana Bakery Ltd')
  })

  it('a personal account is never asked for a verified name', async () => {
    const s = await h.openFromSavedSession()
    expect(s.called('executeUSyncQuery')).toEqual([])
    expect(h.writer.status(1).profile).toMatchObject({ isBusiness: false, businessName: '' })
  })
})

describe('presence is what the hub asked for and WhatsApp took', () => {
  it('is available only once the request is written; Baileys’ own isOnline echo is not read', async () => {
    const s = await h.openFromSavedSession(ref(1, true))
    await settle()
    expect(s.called('sendPresenceUpdate')).toEqual([['available']])
    expect(h.writer.status(1).presenceStatus).toBe('available')
    s.update({ isOnline: false })
    expect(h.writer.status(1).presenceStatus).toBe('available')
  })

  it('stays unavailable when the send fails', async () => {
    await h.savePaired()
    await h.wa.reconnect(ref(1, true))
    await settle()
    const s = h.last()
    s.presenceError = boom(428, 'Connection Closed')
    await h.login(s)
    await settle()
    expect(s.called('sendPresenceUpdate')).toEqual([['available']])
    expect(h.writer.status(1).presenceStatus).toBe('unavailable')
  })

  it('is asked again once the push name arrives: rc.9 drops presence without one', async () => {
    await h.savePaired({ me: { name: undefined } })
    await h.wa.reconnect(ref(1, true))
    await settle()
    const s = h.last()
    await h.login(s, { me: { ...PAIR_SUCCESS.me } })
    expect(s.called('sendPresenceUpdate')).toEqual([])
    expect(h.writer.status(1).presenceStatus).toBe('unavailable')
    s.emit('creds.update', { me: { ...PAIR_SUCCESS.me, name: 'Ana' } })
    await settle()
    expect(s.called('sendPresenceUpdate')).toEqual([['available']])
    expect(h.writer.status(1).presenceStatus).toBe('available')
  })
})

describe('calls', () => {
  const offer = (id: string) => ({ chatId: '15550001111@s.whatsapp.net', from: '15550001111@s.whatsapp.net', id, date: new Date(T0), offline: false, status: 'offer' as const })

  it('autoRejectCalls rejects an offer and sends callRejectMessage; other call updates and a disabled setting do nothing', async () => {
    const s = await h.openFromSavedSession(ref(1, false, { settings: { autoRejectCalls: true, callRejectMessage: 'No calls, please write.' } }))
    s.emit('call', [offer('C1')])
    s.emit('call', [{ ...offer('C1'), status: 'terminate' }])
    await settle()
    expect(s.called('rejectCall')).toEqual([['C1', '15550001111@s.whatsapp.net']])
    expect(s.called('sendMessage')).toEqual([['15550001111@s.whatsapp.net', { text: 'No calls, please write.' }]])
    h.wa.settingsChanged(ref(1, false, { settings: { autoRejectCalls: false } }))
    s.emit('call', [offer('C2')])
    await settle()
    expect(s.called('rejectCall')).toHaveLength(1)
  })
})

describe('the WhatsApp Web version', () => {
  it('is fetched before the first socket, which waits for it', async () => {
    let finish = () => {}
    h.refreshDone = new Promise<void>((resolve) => (finish = resolve))
    await h.savePaired()
    await h.wa.reconnect(ref(1))
    await settle()
    expect([h.refreshes, h.sockets.length]).toEqual([[0], 0])
    finish()
    await settle()
    expect(h.sockets).toHaveLength(1)
    h.last().closeWith(boom(428, 'Connection Terminated'))
    await h.time.advance(750)
    expect([h.refreshes, h.sockets.length]).toEqual([[0], 2])
  })

  it('is fetched again once a day', async () => {
    await h.close()
    h = new Recorded({ silentAfterMs: 10 * 86_400_000 })
    const s = await h.openFromSavedSession()
    await h.time.advance(86_400_000)
    s.closeWith(boom(428, 'Connection Terminated'))
    await h.time.advance(750)
    expect(h.refreshes).toEqual([0, 1])
  })
})
