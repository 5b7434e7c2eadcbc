import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { HubError } from '../../src/core/errors.js'
import type { OpenedDb } from '../../src/adapters/sqlite/db.js'
import { SqliteSessionStore } from '../../src/adapters/sqlite/session-store.js'
import { Simulator } from '../../src/adapters/simulated/simulator.js'
import { createWhatsApp } from '../../src/app/whatsapp.js'
import type { WhatsAppSupervisor } from '../../src/sources/whatsapp/supervisor.js'
import { until } from '../helpers/wait.js'
import { dbWithInstances, ManualTime, RecordingWriter, ref, restored, settle, silentLog, T0 } from './helpers.js'

const QR = /^2@[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+$/

let time: ManualTime
let opened: OpenedDb
let writer: RecordingWriter
let wa: WhatsAppSupervisor

beforeEach(() => {
  time = new ManualTime()
  opened = dbWithInstances(3)
  writer = new RecordingWriter(time)
  wa = createWhatsApp('simulated', { writer, db: opened.db, log: silentLog, clock: time, timers: time, random: () => 0.5 })
})

afterEach(async () => {
  await wa.shutdown()
  opened.close()
})

function sim(): Simulator {
  if (!(wa.simulator instanceof Simulator)) throw new Error('not simulated')
  return wa.simulator
}

/** Pairs, restarts after the 515, and waits for the offline backlog and the initial sync (500 ms). */
async function connectAndScan(id: number, r = ref(id)): Promise<void> {
  await wa.connect(r, { timeoutMs: 60_000 })
  await sim().scan(id)
  await time.advance(750)
}

describe('simulated mode', () => {
  it('connect yields a QR at once and publishes "Waiting for QR scan" without the QR', async () => {
    const result = await wa.connect(ref(1), { timeoutMs: 60_000 })
    expect(result.status).toBe('qr')
    expect(result.status === 'qr' && result.qr).toMatch(QR)
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      displayStatus: 'Waiting for QR scan',
      reason: null,
      retryAt: null,
      numberJid: null,
    })
    expect(JSON.stringify(writer.patches)).not.toContain(result.status === 'qr' ? result.qr : '?')
  })

  it('connect again while waiting for a scan returns the current QR from the same socket', async () => {
    const first = await wa.connect(ref(1), { timeoutMs: 60_000 })
    expect(await wa.connect(ref(1), { timeoutMs: 60_000 })).toEqual(first)
    expect(wa.machineState(1)?.gen).toBe(1)
  })

  it('keeps the first QR 60 s, rotates every 20 s after, and parks in QR expired after 6 refs (160 s), as Baileys does', async () => {
    const first = await wa.connect(ref(1), { timeoutMs: 60_000 })
    await time.advance(59_999)
    expect(await wa.connect(ref(1), { timeoutMs: 60_000 })).toEqual(first)
    await time.advance(1)
    const second = await wa.connect(ref(1), { timeoutMs: 60_000 })
    expect(second).not.toEqual(first)
    await time.advance(20_000)
    expect(await wa.connect(ref(1), { timeoutMs: 60_000 })).not.toEqual(second)
    await time.advance(79_999)
    expect(writer.status(1).displayStatus).toBe('Waiting for QR scan')
    await time.advance(1)
    expect(writer.status(1)).toMatchObject({
      state: 'disconnected',
      displayStatus: 'Disconnected (QR expired)',
      reason: { code: 408, name: 'qrExpired', message: 'QR refs attempts ended' },
      retryAt: null,
    })
  })

  it('scan pairs a random 12-digit number without a push name (a personal account), restarts after 515, then the initial sync brings the name', async () => {
    await wa.connect(ref(1), { timeoutMs: 60_000 })
    await sim().scan(1)
    expect(writer.status(1)).toMatchObject({ state: 'connecting', event: 'pair_success', profile: { name: '' } })
    await time.advance(250)
    expect(writer.status(1)).toMatchObject({ state: 'connected', synced: false, profile: { name: '', pictureUrl: null, isBusiness: false, businessName: '' } })
    await time.advance(500)
    const status = writer.status(1)
    expect(status).toMatchObject({
      state: 'connected',
      displayStatus: 'Online',
      reason: null,
      presenceStatus: 'unavailable',
      synced: true,
      // disableHistorySync is on by default (RyzeAPI's default).
      historySync: null,
      closeDetail: null,
      profile: { name: 'Sim 1', pictureUrl: null, isBusiness: false, businessName: '' },
    })
    expect(status.numberJid).toMatch(/^\d{12}@s\.whatsapp\.net$/)
    expect(wa.machineState(1)).toMatchObject({ phase: 'OPEN', gen: 2, synced: true })
    // QR; pair-success creds (number known); isNewLogin; 515 (retryAt set); restart; open; profile
    // fetched; backlog (synced); push name.
    expect(writer.displays(1)).toEqual([
      'Connecting…',
      'Waiting for QR scan',
      'Waiting for QR scan',
      'Connecting…',
      'Connecting…',
      'Connecting…',
      'Online',
      'Online',
      'Online',
      'Online',
    ])
  })

  it('pairs a business account with its <biz name> at pair-success and its verified name from the server', async () => {
    await sim().profile(1, { isBusiness: true, businessName: 'Ana Bakery Ltd', name: 'Ana' })
    await connectAndScan(1)
    expect(writer.status(1).profile).toEqual({ name: 'Ana', pictureUrl: null, isBusiness: true, businessName: 'Ana Bakery Ltd' })
  })

  it('reports history-sync progress once disableHistorySync is off', async () => {
    await connectAndScan(1, ref(1, false, { settings: { disableHistorySync: false } }))
    expect(writer.status(1)).toMatchObject({ synced: true, historySync: { progress: 100, isLatest: true }, profile: { name: 'Sim 1' } })
  })

  it('buffers an avatar change during the offline backlog and delivers it at the flush, like makeEventBuffer', async () => {
    await wa.connect(ref(1), { timeoutMs: 60_000 })
    await sim().scan(1)
    await time.advance(250)
    const socket = sim().socketOf(1)!
    const delivered: string[] = []
    socket.ev.on('contacts.update', () => delivered.push('contacts.update'))
    socket.ev.on('connection.update', (u) => u.receivedPendingNotifications && delivered.push('synced'))
    socket.ev.emit('contacts.update', [{ id: 'x@s.whatsapp.net', imgUrl: 'changed' }])
    expect(delivered).toEqual([])
    await time.advance(500)
    expect(delivered).toEqual(['contacts.update', 'synced'])
  })

  it('connect with a number returns an 8-character pairing code, and the scan pairs that number', async () => {
    const result = await wa.connect(ref(1), { number: '+1 555 000-1111', timeoutMs: 60_000 })
    expect(result).toEqual({ status: 'pairing', pairingCode: expect.stringMatching(/^[1-9A-HJKMNP-TV-Z]{8}$/) })
    expect(writer.status(1).displayStatus).toBe('Waiting for pairing code')
    expect(writer.status(1).numberJid).toBeNull()
    await sim().scan(1)
    await time.advance(250)
    expect(writer.status(1)).toMatchObject({ state: 'connected', numberJid: '15550001111@s.whatsapp.net' })
  })

  it('a pairing code nobody entered does not poison the next connect: it offers a QR, not "Logged out"', async () => {
    expect((await wa.connect(ref(1), { number: '15550001111', timeoutMs: 60_000 })).status).toBe('pairing')
    await time.advance(160_000)
    expect(writer.status(1)).toMatchObject({ state: 'disconnected', displayStatus: 'Disconnected (QR expired)' })
    const again = await wa.connect(ref(1), { timeoutMs: 60_000 })
    expect(again.status).toBe('qr')
    expect(writer.status(1)).toMatchObject({ state: 'connecting', displayStatus: 'Waiting for QR scan', numberJid: null })
    await sim().scan(1)
    await time.advance(250)
    expect(writer.status(1).state).toBe('connected')
    expect(writer.status(1).numberJid).not.toBe('15550001111@s.whatsapp.net')
  })

  it('close 428 publishes connecting with the reason and retryAt, then connects again', async () => {
    await connectAndScan(1)
    await sim().close(1, 428, 'Connection Terminated')
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: 428, name: 'connectionClosed', message: 'Connection Terminated' },
      displayStatus: 'Reconnecting (connection closed), attempt 1',
      retryAt: new Date(time.now() + 750).toISOString(),
    })
    await time.advance(750)
    expect(writer.status(1)).toMatchObject({ state: 'connected', displayStatus: 'Online', retryAt: null })
  })

  it('close 401 logs out, wipes the session and refuses reconnect with 400', async () => {
    await connectAndScan(1)
    await sim().close(1, 401, 'Stream Errored (conflict)')
    await settle()
    expect(writer.status(1)).toMatchObject({
      state: 'loggedout',
      displayStatus: 'Logged out',
      reason: { code: 401, name: 'loggedOut', message: 'Stream Errored (conflict)' },
      numberJid: null,
    })
    expect(new SqliteSessionStore(opened.db).info(1)).toBeNull()
    await expect(wa.reconnect(ref(1))).rejects.toEqual(new HubError('invalid', 'Instance has no saved session — call /connect first'))
  })

  it('close 440 twice parks in conflict, with a slow retry that reconnects', async () => {
    await connectAndScan(1)
    await sim().close(1, 440, 'Stream Errored (conflict)')
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      displayStatus: 'Reconnecting (connection replaced), attempt 1',
      retryAt: new Date(time.now() + 10_000).toISOString(),
    })
    await time.advance(10_000)
    expect(writer.status(1).state).toBe('connected')
    await sim().close(1, 440, 'Stream Errored (conflict)')
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      displayStatus: 'Connection replaced by another client, retrying in 8 min',
      reason: { code: 440, name: 'connectionReplaced', message: 'Stream Errored (conflict)' },
      retryAt: new Date(time.now() + 450_000).toISOString(),
    })
    await time.advance(449_000)
    expect(sim().hasSocket(1)).toBe(false)
    await time.advance(1_000)
    expect(writer.status(1).state).toBe('connected')
  })

  it('online(true) and online(false) change presenceStatus once each, once the push name is known', async () => {
    await wa.connect(ref(1), { timeoutMs: 60_000 })
    await sim().scan(1)
    await time.advance(250)
    await expect(sim().online(1, true)).rejects.toEqual(
      new HubError('conflict', 'WhatsApp ignores presence until the push name is known (after the initial sync)'),
    )
    expect(writer.status(1).presenceStatus).toBe('unavailable')
    await time.advance(500)
    await sim().online(1, true)
    expect(writer.status(1).presenceStatus).toBe('available')
    await sim().online(1, false)
    expect(writer.status(1).presenceStatus).toBe('unavailable')
  })

  it('keepOnlineStatus makes the instance available when open and unavailable when turned off', async () => {
    await connectAndScan(1)
    wa.settingsChanged(ref(1, true))
    await settle()
    expect(writer.status(1).presenceStatus).toBe('available')
    wa.settingsChanged(ref(1, false))
    await settle()
    expect(writer.status(1).presenceStatus).toBe('unavailable')
  })

  it('profile changes reach the status as Baileys reports them: the push name through creds, the picture through the avatar refresh', async () => {
    await connectAndScan(1)
    await sim().profile(1, { name: 'Ana Shop', pictureUrl: 'https://pps.example/ana.jpg', isBusiness: true, businessName: 'Ana Shop Ltd' })
    await settle()
    // Becoming a business shows at the next pairing: rc.9 never reports a platform change.
    expect(writer.status(1).profile).toEqual({ name: 'Ana Shop', pictureUrl: 'https://pps.example/ana.jpg', isBusiness: false, businessName: '' })
  })

  it('autoRejectCalls rejects a Baileys-shaped call offer and sends callRejectMessage', async () => {
    await connectAndScan(1, ref(1, false, { settings: { autoRejectCalls: true, callRejectMessage: 'Please send a message instead.' } }))
    const id = await sim().call(1, '15550001111@s.whatsapp.net')
    await until(() => sim().socketOf(1)?.sent.length === 1, 'the reject message sent')
    expect(sim().socketOf(1)).toMatchObject({
      rejected: [{ callId: id, from: '15550001111@s.whatsapp.net' }],
      sent: [{ jid: '15550001111@s.whatsapp.net', content: { text: 'Please send a message instead.' } }],
    })
  })

  it('leaves calls alone without autoRejectCalls', async () => {
    await connectAndScan(1)
    // The control: an instance that rejects, called right after. Once it has rejected and
    // answered, a rejection of the first call would have landed too.
    await connectAndScan(2, ref(2, false, { settings: { autoRejectCalls: true, callRejectMessage: 'Busy.' } }))
    await sim().call(1, '15550001111@s.whatsapp.net')
    const control = await sim().call(2, '15550002222@s.whatsapp.net')
    await until(() => sim().socketOf(2)?.sent.length === 1, 'the control instance\'s reject message sent')
    expect(sim().socketOf(2)).toMatchObject({ rejected: [{ callId: control, from: '15550002222@s.whatsapp.net' }] })
    expect(sim().socketOf(1)).toMatchObject({ rejected: [], sent: [] })
  })

  it('control calls without a live socket fail with 409', async () => {
    await expect(sim().scan(1)).rejects.toEqual(new HubError('conflict', 'Instance has no live socket'))
    await expect(sim().close(1, 428, 'Connection Terminated')).rejects.toEqual(new HubError('conflict', 'Instance has no live socket'))
    await expect(sim().online(1, true)).rejects.toEqual(new HubError('conflict', 'Instance has no live socket'))
    await expect(sim().silence(1, 1_000)).rejects.toEqual(new HubError('conflict', 'Instance has no live socket'))
  })

  it('connect on a connected instance answers connected without a new socket', async () => {
    await connectAndScan(1)
    expect(await wa.connect(ref(1), { timeoutMs: 1_000 })).toEqual({ status: 'connected' })
    expect(wa.machineState(1)?.gen).toBe(2)
  })

  it('logout unlinks, wipes the session and ends loggedout; connect then shows a new QR', async () => {
    await connectAndScan(1)
    await wa.logout(ref(1))
    expect(writer.status(1)).toMatchObject({
      state: 'loggedout',
      displayStatus: 'Logged out',
      reason: { code: 401, name: 'loggedOut', message: 'Intentional Logout' },
      numberJid: null,
    })
    expect(new SqliteSessionStore(opened.db).info(1)).toBeNull()
    expect((await wa.connect(ref(1), { timeoutMs: 60_000 })).status).toBe('qr')
  })

  it('logout of an instance without a socket wipes and publishes loggedout', async () => {
    await wa.logout(ref(2))
    expect(writer.status(2)).toMatchObject({ state: 'loggedout', displayStatus: 'Logged out' })
  })

  it('remove ends the socket, wipes the session and ignores later events', async () => {
    await connectAndScan(1)
    const published = writer.patches.length
    await wa.remove(1)
    expect(sim().hasSocket(1)).toBe(false)
    expect(new SqliteSessionStore(opened.db).info(1)).toBeNull()
    await time.advance(120_000)
    expect(writer.patches.length).toBe(published)
    expect(wa.machineState(1)).toBeUndefined()
  })

  it('restore reconnects paired autoStart sessions of a new runner over the same database', async () => {
    await connectAndScan(1)
    await wa.connect(ref(2), { timeoutMs: 60_000 })
    await wa.shutdown()
    const published = writer.patches.length

    const writer2 = new RecordingWriter(time)
    const wa2 = createWhatsApp('simulated', { writer: writer2, db: opened.db, log: silentLog, clock: time, timers: time, random: () => 0.5 })
    wa2.restore([restored(1), restored(2), restored(3)])
    await settle()
    expect(writer2.status(1)).toMatchObject({ state: 'connected', numberJid: writer.status(1).numberJid, profile: { name: 'Sim 1' } })
    expect(wa2.machineState(2)).toBeUndefined()
    expect(writer.patches.length).toBe(published)
    await wa2.shutdown()
  })

  it('restore reconnects a session parked in conflict: only stop and logout keep one down', async () => {
    await connectAndScan(1)
    await sim().close(1, 440, 'Stream Errored (conflict)')
    await time.advance(10_000)
    await sim().close(1, 440, 'Stream Errored (conflict)')
    expect(writer.status(1)).toMatchObject({ state: 'connecting', displayStatus: 'Connection replaced by another client, retrying in 8 min' })
    await wa.shutdown()

    const writer2 = new RecordingWriter(time)
    const wa2 = createWhatsApp('simulated', { writer: writer2, db: opened.db, log: silentLog, clock: time, timers: time, random: () => 0.5 })
    wa2.restore([restored(1)])
    await settle()
    expect(writer2.status(1)).toMatchObject({ state: 'connected', displayStatus: 'Online', numberJid: writer.status(1).numberJid })
    await wa2.shutdown()
  })

  it('a stopped instance is not restored', async () => {
    await connectAndScan(1)
    wa.stop(1)
    expect(writer.status(1)).toMatchObject({ state: 'disconnected', displayStatus: 'Disconnected (stopped)', reason: { code: null, name: 'stopped' } })
    expect(new SqliteSessionStore(opened.db).restorable()).toEqual([])
    await wa.reconnect(ref(1))
    await settle()
    expect(writer.status(1).state).toBe('connected')
    expect(new SqliteSessionStore(opened.db).restorable()).toEqual([1])
  })

  it('times out waiting for a QR with 504 and the reason when no QR comes (the watchdog ended a silent server at 55 s)', async () => {
    const slow = createWhatsApp('simulated', {
      writer,
      db: opened.db,
      log: silentLog,
      clock: time,
      timers: time,
      random: () => 0.5,
      simulated: { latencyMs: 90_000 },
    })
    const pending = slow.connect(ref(3), { timeoutMs: 60_000 })
    const outcome = pending.catch((err: unknown) => err)
    await time.advance(60_000)
    expect(await outcome).toEqual(new HubError('timeout', "Timed out waiting for a QR code: Can't reach WhatsApp (no answer within 55 s)"))
    await slow.shutdown()
  })
})

describe('simulated failures, as real Baileys shows them', () => {
  it('network "unreachable": a DNS failure before any QR; /connect keeps waiting, answers 504 with the reason, and the QR comes once the network is back', async () => {
    await sim().network(1, 'unreachable')
    const outcome = wa.connect(ref(1), { timeoutMs: 60_000 }).catch((err: unknown) => err)
    await time.advance(60_000)
    expect(await outcome).toEqual(new HubError('timeout', "Timed out waiting for a QR code: Can't reach WhatsApp (getaddrinfo ENOTFOUND web.whatsapp.com)"))
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: 408, name: 'unreachable', message: 'WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)' },
      closeDetail: 'ENOTFOUND: getaddrinfo ENOTFOUND web.whatsapp.com',
    })
    expect(writer.displays(1)).not.toContain('Disconnected (QR expired)')
    await sim().network(1, 'ok')
    await time.advance(60_000)
    expect(writer.status(1).displayStatus).toBe('Waiting for QR scan')
  })

  it('network "tls": a 500 "self-signed certificate" on a paired session retries as tlsError and never needs attention', async () => {
    await connectAndScan(1)
    await sim().network(1, 'tls')
    await sim().close(1, 428, 'Connection Terminated')
    await time.advance(600_000)
    expect(writer.status(1)).toMatchObject({ state: 'connecting', reason: { code: 500, name: 'tlsError', message: 'WebSocket Error (self-signed certificate)' } })
    expect(writer.status(1).displayStatus).toMatch(/^Secure connection to WhatsApp failed \(self-signed certificate\), retrying in \d+s$/)
    expect(writer.displays(1).some((d) => d.startsWith('Needs attention'))).toBe(false)
  })

  it('network "hang": an upgrade that never answers fails after Baileys’ connectTimeoutMs (20 s) as unreachable', async () => {
    await connectAndScan(1)
    await sim().network(1, 'hang')
    await sim().close(1, 428, 'Connection Terminated')
    await time.advance(750)
    await time.advance(19_999)
    expect(writer.status(1)).toMatchObject({ state: 'connecting', displayStatus: 'Connecting…' })
    await time.advance(1)
    expect(writer.status(1)).toMatchObject({
      reason: { code: 408, name: 'unreachable', message: 'WebSocket Error (Opening handshake has timed out)' },
      displayStatus: "Can't reach WhatsApp (Opening handshake has timed out), retrying in 2s",
    })
  })

  it('silence longer than Baileys’ keep-alive: Baileys itself ends the socket with 408 "Connection was lost" (at 60 s), before the hub’s 120 s', async () => {
    await connectAndScan(1)
    await sim().silence(1, 600_000)
    const since = writer.patches.length
    await time.advance(59_374)
    expect(writer.status(1).state).toBe('connected')
    await time.advance(1)
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: 408, name: 'connectionLost', message: 'Connection was lost' },
      event: 'keepalive_timeout',
    })
    // The silence was the socket's: the next one answers.
    await time.advance(750)
    expect(writer.status(1)).toMatchObject({ state: 'connected', event: 'keepalive_restored' })
    expect(writer.patches.slice(since).map((p) => p.patch.reason?.name)).not.toContain('silent')
  })

  it('silence with HUB_SILENT_AFTER_MS below the keep-alive: the hub restarts the socket as "silent", and it comes back', async () => {
    await wa.shutdown()
    wa = createWhatsApp('simulated', { writer, db: opened.db, log: silentLog, clock: time, timers: time, random: () => 0.5, options: { silentAfterMs: 20_000 } })
    await connectAndScan(1)
    await time.advance(25_000)
    expect(writer.status(1).state).toBe('connected')
    await sim().silence(1, 25_000)
    await time.advance(25_000)
    expect(writer.patches.map((p) => p.patch.reason?.name).filter(Boolean)).toContain('silent')
    await time.advance(2_000)
    expect(writer.status(1)).toMatchObject({ state: 'connected', event: 'keepalive_restored' })
  })

  it('liveness tracks the keep-alive answers of an open socket', async () => {
    await connectAndScan(1)
    // The post-515 socket started at T0 + 125 ms; its last frame so far was the offline backlog.
    expect(wa.liveness(1).lastFrameAt).toBe(T0 + 625)
    await time.advance(30_000)
    expect(wa.liveness(1).lastFrameAt).toBe(T0 + 125 + 30_000)
  })
})
