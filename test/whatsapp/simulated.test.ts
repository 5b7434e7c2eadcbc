import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { HubError } from '../../src/core/errors.js'
import type { OpenedDb } from '../../src/adapters/sqlite/db.js'
import { SqliteSessionStore } from '../../src/adapters/sqlite/session-store.js'
import { Simulator } from '../../src/adapters/simulated/simulator.js'
import { createWhatsApp } from '../../src/app/whatsapp.js'
import type { WhatsAppSupervisor } from '../../src/sources/whatsapp/supervisor.js'
import { dbWithInstances, ManualTime, RecordingWriter, ref, restored, settle, silentLog } from './helpers.js'

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

async function connectAndScan(id: number): Promise<void> {
  await wa.connect(ref(id), { timeoutMs: 60_000 })
  await sim().scan(id)
  await time.advance(250)
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

  it('rotates the QR every 20 s and parks in QR expired after 6 refs', async () => {
    const first = await wa.connect(ref(1), { timeoutMs: 60_000 })
    await time.advance(20_000)
    const second = await wa.connect(ref(1), { timeoutMs: 60_000 })
    expect(second).not.toEqual(first)
    await time.advance(100_000)
    expect(writer.status(1)).toMatchObject({
      state: 'disconnected',
      displayStatus: 'Disconnected (QR expired)',
      reason: { code: 408, name: 'qrExpired', message: 'QR refs attempts ended' },
      retryAt: null,
    })
  })

  it('scan pairs a random 12-digit number, restarts after 515 and ends connected with number and name', async () => {
    await connectAndScan(1)
    const status = writer.status(1)
    expect(status).toMatchObject({
      state: 'connected',
      displayStatus: 'Online',
      reason: null,
      presenceStatus: 'unavailable',
      profile: { name: 'Sim 1', pictureUrl: null, isBusiness: false, businessName: '' },
    })
    expect(status.numberJid).toMatch(/^\d{12}@s\.whatsapp\.net$/)
    expect(wa.machineState(1)).toMatchObject({ phase: 'OPEN', gen: 2, synced: true })
    // QR; pair-success creds (number known); isNewLogin; 515 (retryAt set); restart; open; profile fetched.
    expect(writer.displays(1)).toEqual([
      'Connecting…',
      'Waiting for QR scan',
      'Waiting for QR scan',
      'Connecting…',
      'Connecting…',
      'Connecting…',
      'Online',
      'Online',
    ])
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
    await time.advance(120_000)
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

  it('close 440 twice ends disconnected (connection replaced)', async () => {
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
      state: 'disconnected',
      displayStatus: 'Disconnected (connection replaced)',
      reason: { code: 440, name: 'connectionReplaced', message: 'Stream Errored (conflict)' },
      retryAt: null,
    })
    await time.advance(600_000)
    expect(sim().hasSocket(1)).toBe(false)
  })

  it('online(false) and online(true) change presenceStatus', async () => {
    await connectAndScan(1)
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

  it('profile changes reach the status through creds and the avatar refresh', async () => {
    await connectAndScan(1)
    await sim().profile(1, { name: 'Ana Shop', pictureUrl: 'https://pps.example/ana.jpg', isBusiness: true, businessName: 'Ana Shop Ltd' })
    await settle()
    expect(writer.status(1).profile).toEqual({
      name: 'Ana Shop',
      pictureUrl: 'https://pps.example/ana.jpg',
      isBusiness: true,
      businessName: 'Ana Shop Ltd',
    })
  })

  it('control calls without a live socket fail with 409', async () => {
    await expect(sim().scan(1)).rejects.toEqual(new HubError('conflict', 'Instance has no live socket'))
    await expect(sim().close(1, 428, 'Connection Terminated')).rejects.toEqual(new HubError('conflict', 'Instance has no live socket'))
    await expect(sim().online(1, true)).rejects.toEqual(new HubError('conflict', 'Instance has no live socket'))
    await expect(sim().profile(1, { name: 'x' })).rejects.toEqual(new HubError('conflict', 'Instance has no live socket'))
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
    expect(writer.status(1)).toMatchObject({ state: 'disconnected', displayStatus: 'Disconnected (connection replaced)' })
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

  it('times out waiting for a QR with 504 when no QR comes', async () => {
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
    expect(await outcome).toEqual(new HubError('timeout', 'Timed out waiting for a QR code'))
    await slow.shutdown()
  })
})
