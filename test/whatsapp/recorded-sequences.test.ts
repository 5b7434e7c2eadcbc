/**
 * The recorded Baileys rc.9 sequences (docs/baileys-rc9.md §4.1) replayed through Baileys' own event emitter
 * into the adapter and the runner, with manual time.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { SqliteSessionStore } from '../../src/adapters/sqlite/session-store.js'
import type { WhatsAppSupervisor } from '../../src/sources/whatsapp/supervisor.js'
import { boom, type FakeBaileysSocket } from './fake-baileys-socket.js'
import type { ManualTime, RecordingWriter } from './helpers.js'
import { ref, settle, T0 } from './helpers.js'
import { CONNECTING, ENOTFOUND, iso, JID, LOGIN_ME, PAIR_SUCCESS, QR1, Recorded, RESTART_REQUIRED } from './recorded-harness.js'

let h: Recorded
let time: ManualTime
let writer: RecordingWriter
let sessions: SqliteSessionStore
let sockets: FakeBaileysSocket[]
let wa: WhatsAppSupervisor
let refreshes: number[]

beforeEach(() => {
  h = new Recorded()
  ;({ time, writer, sessions, sockets, wa, refreshes } = h)
})

afterEach(() => h.close())

const last = () => h.last()
const login = (s: FakeBaileysSocket) => h.login(s)
const openFromSavedSession = () => h.openFromSavedSession()

describe('recorded sequences through makeEventBuffer, the adapter and the runner', () => {
  it('FIRST QR LOGIN then RESTART AFTER 515 ends connected on generation 2 with the same creds', async () => {
    const pending = wa.connect(ref(1), { timeoutMs: 60_000 })
    await settle()
    const s1 = last()
    s1.update(CONNECTING)
    s1.update({ qr: QR1 })
    expect(await pending).toEqual({ status: 'qr', qr: QR1 })

    s1.emit('creds.update', PAIR_SUCCESS)
    s1.update({ isNewLogin: true, qr: undefined })
    expect(writer.status(1)).toMatchObject({ state: 'connecting', displayStatus: 'Connecting…', numberJid: JID })
    expect(wa.machineState(1)?.phase).toBe('PAIRED_RESTARTING')

    s1.closeWith(RESTART_REQUIRED())
    expect(time.pendingDelays()).toEqual([125])
    expect(writer.status(1)).toMatchObject({ state: 'connecting', displayStatus: 'Connecting…', retryAt: iso(T0 + 125) })
    await time.advance(125)
    expect(sockets).toHaveLength(2)
    const s2 = last()
    expect(s2.authState.creds).toBe(s1.authState.creds)
    expect(sessions.info(1)).toEqual({ paired: true, autoStart: true, me: { jid: JID }, platform: 'android' })

    await login(s2)
    expect(writer.status(1)).toEqual({
      state: 'connected',
      since: iso(T0 + 125),
      reason: null,
      displayStatus: 'Online',
      event: 'connected',
      retryAt: null,
      numberJid: JID,
      presenceStatus: 'unavailable',
      profile: { name: 'Ana', pictureUrl: 'https://pps.example/me.jpg', isBusiness: false, businessName: '' },
      synced: true,
      historySync: null,
      closeDetail: null,
    })
    expect(s2.called('profilePictureUrl')).toEqual([[JID, 'image', 10_000]])
    expect(wa.machineState(1)).toMatchObject({ phase: 'OPEN', gen: 2, synced: true })
    // stable open, silent socket, picture refresh (no oe= in the URL: every 6 h)
    expect(time.pendingDelays()).toEqual([60_000, 120_000, 21_600_000])

    // Late events of generation 1 change nothing.
    const before = wa.machineState(1)
    s1.update({ connection: 'open' })
    s1.emit('creds.update', { me: { id: '19999999999:1@s.whatsapp.net', name: 'Other' } })
    expect(wa.machineState(1)?.gen).toBe(2)
    expect(wa.machineState(1)?.phase).toBe(before?.phase)
  })

  it('a pairing code is requested after the first QR, and the typed number is not published', async () => {
    const pending = wa.connect(ref(1), { number: '15550001111', timeoutMs: 60_000 })
    await settle()
    const s1 = last()
    s1.update(CONNECTING)
    expect(s1.called('requestPairingCode')).toEqual([])
    s1.update({ qr: QR1 })
    // requestPairingCode emits the whole creds with me = the typed number before anything is paired.
    s1.emit('creds.update', { ...s1.authState.creds, me: { id: '15550001111@s.whatsapp.net', name: '~' } })
    expect(await pending).toEqual({ status: 'pairing', pairingCode: 'KC4LVSL1' })
    expect(s1.called('requestPairingCode')).toEqual([['15550001111']])
    expect(writer.status(1)).toMatchObject({ displayStatus: 'Waiting for pairing code', numberJid: null })
  })

  it('CONNECTION LOST backs off 750 ms then 1.5 s and reconnects', async () => {
    const s1 = await openFromSavedSession()
    s1.closeWith(boom(408, 'Connection was lost'))
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: 408, name: 'connectionLost', message: 'Connection was lost' },
      displayStatus: 'Reconnecting (connection lost), attempt 1',
      retryAt: iso(T0 + 750),
      presenceStatus: 'unavailable',
    })
    expect(time.pendingDelays()).toEqual([750])

    await time.advance(750)
    const s2 = last()
    s2.update(CONNECTING)
    s2.closeWith(ENOTFOUND())
    expect(writer.status(1)).toMatchObject({
      reason: { code: 408, name: 'unreachable', message: 'WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)' },
      displayStatus: "Can't reach WhatsApp (getaddrinfo ENOTFOUND web.whatsapp.com), retrying in 2s",
      closeDetail: 'ENOTFOUND: getaddrinfo ENOTFOUND web.whatsapp.com',
      retryAt: iso(T0 + 750 + 1_500),
    })

    await time.advance(1_500)
    await login(last())
    expect(sockets).toHaveLength(3)
    expect(writer.status(1)).toMatchObject({ state: 'connected', displayStatus: 'Online', retryAt: null })
  })

  it('the server ending the stream (428) is retried like a lost connection', async () => {
    const s1 = await openFromSavedSession()
    s1.closeWith(boom(428, 'Connection Terminated by Server'))
    expect(writer.status(1)).toMatchObject({
      reason: { code: 428, name: 'connectionClosed', message: 'Connection Terminated by Server' },
      displayStatus: 'Reconnecting (connection closed), attempt 1',
    })
  })

  it.each([
    ['device removed on the phone', 'Stream Errored (conflict)', { tag: 'conflict', attrs: { type: 'device_removed' } }],
    ['dead creds at login', 'Connection Failure', { reason: '401', location: 'frc' }],
    ['our own sock.logout()', 'Intentional Logout', undefined],
  ])('LOGGED OUT (%s) wipes the session and never reconnects', async (_, message, data) => {
    const s1 = await openFromSavedSession()
    s1.closeWith(boom(401, message, data))
    await settle()
    expect(writer.status(1)).toMatchObject({
      state: 'loggedout',
      reason: { code: 401, name: 'loggedOut', message },
      displayStatus: 'Logged out',
      numberJid: null,
      profile: { name: '', pictureUrl: null, isBusiness: false, businessName: '' },
    })
    expect(sessions.info(1)).toBeNull()
    expect(time.pendingDelays()).toEqual([])
    await time.advance(3_600_000)
    expect(sockets).toHaveLength(1)
  })

  it('logout() calls sock.logout(), whose 401 close ends loggedout', async () => {
    const s1 = await openFromSavedSession()
    expect(await wa.logout(ref(1))).toEqual({ unlinkSent: true })
    expect(s1.called('logout')).toEqual([[undefined]])
    expect(writer.status(1)).toMatchObject({ state: 'loggedout', reason: { code: 401, name: 'loggedOut', message: 'Intentional Logout' } })
    expect(sessions.info(1)).toBeNull()
  })

  it('logout() ends the socket when sock.logout() fails, still ends loggedout, and says the device may still be linked', async () => {
    const s1 = await openFromSavedSession()
    s1.logoutFails = true
    expect(await wa.logout(ref(1))).toEqual({ unlinkSent: false })
    expect(s1.called('end')).toEqual([[undefined]])
    expect(writer.status(1)).toMatchObject({
      state: 'loggedout',
      displayStatus: 'Logged out (unlink not sent: the phone may still list this device)',
      reason: {
        code: null,
        name: 'logoutUnconfirmed',
        message: 'Session wiped; the unlink request could not be sent to WhatsApp, so the phone may still list this device',
      },
    })
    expect(sessions.info(1)).toBeNull()
  })

  it('logout() of a paired session without a live socket cannot unlink it, and says so', async () => {
    const s1 = await openFromSavedSession()
    s1.closeWith(boom(428, 'Connection Terminated'))
    expect(await wa.logout(ref(1))).toEqual({ unlinkSent: false })
    expect(writer.status(1).reason?.name).toBe('logoutUnconfirmed')
  })

  it('BAD SESSION (500 stream error) five times without a stable open parks in needs attention, with a slow retry', async () => {
    let s = await openFromSavedSession()
    for (let i = 1; i <= 4; i++) {
      s.closeWith(boom(500, 'Stream Errored (xml-not-well-formed)', { tag: 'xml-not-well-formed', attrs: {} }))
      expect(writer.status(1).displayStatus).toBe(`Reconnecting (bad session), attempt ${i}`)
      await time.advance(time.pendingDelays()[0]!)
      s = last()
      await login(s)
    }
    s.closeWith(boom(500, 'Stream Errored (xml-not-well-formed)', { tag: 'xml-not-well-formed', attrs: {} }))
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: 500, name: 'badSession', message: 'Stream Errored (xml-not-well-formed)' },
      displayStatus: 'Needs attention (bad session), retrying in 8 min',
      closeDetail: 'xml-not-well-formed',
      retryAt: iso(time.now() + 450_000),
    })
    expect(sockets).toHaveLength(5)
    expect(time.pendingDelays()).toEqual([450_000])
    await time.advance(450_000)
    expect(sockets).toHaveLength(6)
  })

  it('CONNECTION REPLACED (440) retries once after 10 s, then parks in conflict with a slow retry and stays restorable', async () => {
    const s1 = await openFromSavedSession()
    const replaced = () => boom(440, 'Stream Errored (conflict)', { tag: 'conflict', attrs: { type: 'replaced' } })
    s1.closeWith(replaced())
    expect(time.pendingDelays()).toEqual([10_000])
    await time.advance(10_000)
    await login(last())
    last().closeWith(replaced())
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: 440, name: 'connectionReplaced', message: 'Stream Errored (conflict)' },
      displayStatus: 'Connection replaced by another client, retrying in 8 min',
      closeDetail: 'conflict:replaced',
    })
    expect(time.pendingDelays()).toEqual([450_000])
    expect(sessions.info(1)?.autoStart).toBe(true)
    expect(sessions.restorable()).toEqual([1])
  })

  it('CLIENT TOO OLD (405) refreshes the version, retries once after 5 min as connecting, then stops', async () => {
    const auth = sessions.auth(1)
    Object.assign(auth.state.creds, PAIR_SUCCESS, LOGIN_ME)
    await auth.saveCreds()
    await wa.reconnect(ref(1))
    await settle()
    const tooOld = () => boom(405, 'Connection Failure', { reason: '405', location: 'vll' })
    last().update(CONNECTING)
    last().closeWith(tooOld())
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: 405, name: 'clientTooOld', message: 'Connection Failure' },
      displayStatus: 'Needs update (client too old), retrying',
      retryAt: iso(T0 + 300_000),
    })
    // The first socket waited for a fetch of the current version (0 sockets then); the 405 asked for another.
    expect(refreshes).toEqual([0, 1])
    await time.advance(300_000)
    expect(sockets).toHaveLength(2)
    last().update(CONNECTING)
    last().closeWith(tooOld())
    expect(writer.status(1)).toMatchObject({ state: 'disconnected', displayStatus: 'Needs update (client too old)', retryAt: null })
    expect(refreshes).toEqual([0, 1])
    expect(sessions.restorable()).toEqual([1])
    await time.advance(3_600_000)
    expect(sockets).toHaveLength(2)
  })

  it('the 405 retry socket waits for a version refresh still in flight', async () => {
    await openFromSavedSession()
    let finish = () => {}
    h.refreshDone = new Promise<void>((resolve) => (finish = resolve))
    last().closeWith(boom(405, 'Connection Failure', { reason: '405', location: 'vll' }))
    await time.advance(300_000)
    expect(sockets).toHaveLength(1)
    finish()
    await settle()
    expect(sockets).toHaveLength(2)
    expect(refreshes).toEqual([0, 1])
  })

  it('QR refs ending parks in QR expired without a new socket', async () => {
    const pending = wa.connect(ref(1), { timeoutMs: 60_000 })
    await settle()
    last().update(CONNECTING)
    last().update({ qr: QR1 })
    await pending
    last().closeWith(boom(408, 'QR refs attempts ended'))
    expect(writer.status(1)).toMatchObject({ state: 'disconnected', displayStatus: 'Disconnected (QR expired)' })
    await time.advance(3_600_000)
    expect(sockets).toHaveLength(1)
  })

  describe('a pairing-code attempt that never paired', () => {
    const TYPED_ME = { id: '15550001111@s.whatsapp.net', name: '~' }

    /** Generation 1 shows a QR, then requestPairingCode writes the typed number into creds.me. */
    async function pairingRequested(): Promise<FakeBaileysSocket> {
      const pending = wa.connect(ref(1), { number: '15550001111', timeoutMs: 60_000 })
      await settle()
      const s1 = last()
      s1.update(CONNECTING)
      s1.update({ qr: QR1 })
      s1.emit('creds.update', { ...s1.authState.creds, me: TYPED_ME, pairingCode: 'KC4LVSL1' })
      await pending
      await sessions.flush(1)
      expect(sessions.info(1)).toEqual({ paired: false, autoStart: true, me: null, platform: null })
      return s1
    }

    it('after the QR expired, the next connect gets fresh creds without me and a QR', async () => {
      const s1 = await pairingRequested()
      s1.closeWith(boom(408, 'QR refs attempts ended'))
      const pending = wa.connect(ref(1), { timeoutMs: 60_000 })
      await settle()
      expect(sockets).toHaveLength(2)
      const s2 = last()
      expect(s2.authState.creds).not.toBe(s1.authState.creds)
      expect(s2.authState.creds.me).toBeUndefined()
      expect(s2.authState.creds.pairingCode).toBeUndefined()
      expect(sessions.info(1)).toBeNull()
      s2.update(CONNECTING)
      s2.update({ qr: '2@ref9,noiseB64,identityB64,advB64' })
      expect(await pending).toEqual({ status: 'qr', qr: '2@ref9,noiseB64,identityB64,advB64' })
      expect(writer.status(1)).toMatchObject({ state: 'connecting', displayStatus: 'Waiting for QR scan' })
    })

    it('a transient close retries on fresh creds without me', async () => {
      const s1 = await pairingRequested()
      s1.closeWith(boom(428, 'Connection Terminated'))
      expect(time.pendingDelays()).toEqual([750])
      await time.advance(750)
      expect(sockets).toHaveLength(2)
      expect(last().authState.creds.me).toBeUndefined()
    })

    it('a paired session keeps its creds object across a reconnect', async () => {
      const s1 = await openFromSavedSession()
      s1.closeWith(boom(428, 'Connection Terminated'))
      await time.advance(750)
      expect(last().authState.creds).toBe(s1.authState.creds)
      expect(last().authState.creds.me?.id).toBe(LOGIN_ME.me.id)
    })
  })

  it('the connect watchdog ends a socket from which nothing arrived within 55 s as unreachable and backs off', async () => {
    await h.savePaired()
    await wa.reconnect(ref(1))
    await settle()
    last().update(CONNECTING)
    await time.advance(54_999)
    expect(last().called('end')).toEqual([])
    await time.advance(1)
    expect(last().called('end')).toEqual([[undefined]])
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: null, name: 'unreachable', message: 'no answer within 55 s' },
      displayStatus: "Can't reach WhatsApp (no answer within 55 s), retrying in 1s",
      retryAt: iso(T0 + 55_000 + 750),
    })
    await time.advance(750)
    expect(sockets).toHaveLength(2)
  })

  it('the connect watchdog counts from the last frame: post-login queries that keep answering do not trip it', async () => {
    await h.savePaired()
    await wa.reconnect(ref(1))
    await settle()
    const s = last()
    s.update(CONNECTING)
    for (let i = 0; i < 4; i++) {
      await time.advance(30_000)
      s.frame()
    }
    expect(s.called('end')).toEqual([])
    s.update({ connection: 'open' })
    expect(writer.status(1).state).toBe('connected')
  })

  it('an avatar change for our own jid refetches the picture', async () => {
    const s1 = await openFromSavedSession()
    s1.pictureUrl = 'https://pps.example/new.jpg'
    s1.emit('contacts.update', [{ id: '15551234567@s.whatsapp.net', imgUrl: 'changed' }])
    await settle()
    expect(s1.called('profilePictureUrl')).toHaveLength(2)
    expect(writer.status(1).profile.pictureUrl).toBe('https://pps.example/new.jpg')
  })

  it('stop ends the socket, publishes stopped and turns autoStart off', async () => {
    const s1 = await openFromSavedSession()
    wa.stop(1)
    expect(s1.called('end')).toEqual([[undefined]])
    expect(writer.status(1)).toMatchObject({ state: 'disconnected', displayStatus: 'Disconnected (stopped)', reason: { code: null, name: 'stopped' } })
    expect(sessions.info(1)?.autoStart).toBe(false)
    expect(time.pendingDelays()).toEqual([])
  })

  it('shutdown ends every socket, publishes nothing and keeps the session', async () => {
    const s1 = await openFromSavedSession()
    const published = writer.patches.length
    await wa.shutdown()
    expect(s1.called('end')).toEqual([[undefined]])
    expect(writer.patches.length).toBe(published)
    expect(sessions.info(1)).toMatchObject({ paired: true, autoStart: true })
    expect(time.pendingDelays()).toEqual([])
  })
})
