import { describe, expect, it } from 'vitest'
import type { StatusPatch } from '../status.js'
import type { Effect } from './effects.js'
import type { MachineEvent, Me, SessionSnapshot } from './events.js'
import { reduce } from './machine.js'
import { initialMachine, type MachineState, type Phase } from './machine-state.js'

const T0 = Date.parse('2026-03-01T12:00:00.000Z')
const iso = (ms: number) => new Date(ms).toISOString()

const ME: Me = { jid: '15551234567@s.whatsapp.net', name: 'Ana' }
const PAIRED: SessionSnapshot = { paired: true, me: ME, platform: 'android' }
const ANA_PROFILE = { name: 'Ana', isBusiness: false, businessName: '' }

/** Drives the reducer like the runner does, with a settable clock and random source. */
class Drive {
  now = T0
  random = 0.5
  effects: Effect[] = []
  /** Every effect since construction, in order. */
  history: Effect[] = []
  constructor(public s: MachineState = initialMachine()) {}
  send(e: MachineEvent): Effect[] {
    const t = reduce(this.s, e, this.now, () => this.random)
    this.s = t.state
    this.effects = t.effects
    this.history.push(...t.effects)
    return t.effects
  }
  get gen() {
    return this.s.gen
  }
  close(code: number | undefined, message: string, initiatedBy: 'remote' | 'stop' | 'watchdog' = 'remote') {
    return this.send({ type: 'closed', gen: this.gen, code, message, initiatedBy })
  }
  timer(kind: 'reconnect' | 'connectWatchdog' | 'stableOpen') {
    return this.send({ type: 'timer', kind })
  }
  open(me: Me | null = ME) {
    return this.send({ type: 'open', gen: this.gen, me })
  }
}

function publishOf(effects: Effect[]): StatusPatch {
  const last = effects[effects.length - 1]
  if (last?.type !== 'publish') throw new Error(`no publish effect: ${JSON.stringify(effects)}`)
  return last.patch
}

function withoutPublish(effects: Effect[]): Effect[] {
  return effects.filter((e) => e.type !== 'publish')
}

function startedPaired(): Drive {
  const d = new Drive()
  d.send({ type: 'start', session: PAIRED })
  return d
}

function opened(): Drive {
  const d = startedPaired()
  d.open()
  return d
}

function awaitingQr(): Drive {
  const d = new Drive()
  d.send({ type: 'start', session: null })
  d.send({ type: 'qr', gen: d.gen, qr: '2@ref1,noise,identity,adv' })
  return d
}

const onlinePatch = {
  state: 'connected',
  reason: null,
  displayStatus: 'Online',
  event: 'connected',
  retryAt: null,
  presenceStatus: 'unavailable',
  numberJid: ME.jid,
  profile: ANA_PROFILE,
}

describe('reduce', () => {
  describe('start', () => {
    it('from STOPPED creates socket generation 1, arms the connect watchdog and publishes connecting', () => {
      const d = new Drive()
      expect(d.send({ type: 'start', session: null })).toEqual([
        { type: 'createSocket', gen: 1 },
        { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 35_000 },
        { type: 'setAutoStart', autoStart: true },
        {
          type: 'publish',
          patch: { state: 'connecting', reason: null, displayStatus: 'Connecting…', retryAt: null, presenceStatus: 'unavailable', event: 'connecting' },
        },
      ])
      expect(d.s).toMatchObject({ phase: 'CONNECTING', gen: 1, live: true })
    })

    it('with a paired session publishes the saved number and name while connecting', () => {
      const d = new Drive()
      expect(publishOf(d.send({ type: 'start', session: PAIRED }))).toEqual({
        state: 'connecting',
        reason: null,
        displayStatus: 'Connecting…',
        event: 'connecting',
        retryAt: null,
        presenceStatus: 'unavailable',
        numberJid: ME.jid,
        profile: ANA_PROFILE,
      })
    })

    it.each<Phase>(['QR_EXPIRED', 'LOGGED_OUT', 'CONFLICT', 'BLOCKED', 'NEEDS_UPDATE', 'NEEDS_ATTENTION', 'STOPPED'])(
      'from %s starts the next generation with the retry counters reset',
      (phase) => {
        const d = new Drive({ ...initialMachine(), phase, gen: 4, attempt: 3, badSessions: 2, conflicts: [T0 - 1], unpairedTries: 2 })
        expect(withoutPublish(d.send({ type: 'start', session: PAIRED }))).toEqual([
          { type: 'createSocket', gen: 5 },
          { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 35_000 },
          { type: 'setAutoStart', autoStart: true },
        ])
        expect(d.s).toMatchObject({ phase: 'CONNECTING', attempt: 0, badSessions: 0, conflicts: [], unpairedTries: 0 })
      },
    )

    it.each<Phase>(['QR_EXPIRED', 'LOGGED_OUT'])('from %s without a session asks for a QR, or a pairing code when given a number', (phase) => {
      const d = new Drive({ ...initialMachine(), phase, gen: 2, unpairedTries: 3 })
      expect(withoutPublish(d.send({ type: 'start', session: null, pairingNumber: '15550001111' }))).toEqual([
        { type: 'createSocket', gen: 3 },
        { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 35_000 },
        { type: 'setAutoStart', autoStart: true },
      ])
      expect(d.s).toMatchObject({ phase: 'CONNECTING', paired: false, me: null, pairingNumber: '15550001111', unpairedTries: 0 })
      expect(publishOf(d.effects)).toEqual({
        state: 'connecting',
        reason: null,
        displayStatus: 'Connecting…',
        event: 'connecting',
        retryAt: null,
        presenceStatus: 'unavailable',
      })
    })

    it('from NEEDS_UPDATE with its retry pending cancels the retry and connects at once', () => {
      const d = startedPaired()
      d.close(405, 'Connection Failure')
      expect(withoutPublish(d.send({ type: 'start', session: PAIRED }))).toEqual([
        { type: 'cancelTimer', kind: 'reconnect' },
        { type: 'createSocket', gen: 2 },
        { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 35_000 },
        { type: 'setAutoStart', autoStart: true },
      ])
      expect(d.s).toMatchObject({ phase: 'CONNECTING', dueAt: null, updateRetried: false })
      expect(publishOf(d.effects)).toMatchObject({ state: 'connecting', displayStatus: 'Connecting…', retryAt: null })
    })

    it('from RECONNECT_WAIT cancels the pending retry and connects at once', () => {
      const d = opened()
      d.close(428, 'Connection Terminated')
      expect(withoutPublish(d.send({ type: 'start', session: PAIRED }))).toEqual([
        { type: 'cancelTimer', kind: 'reconnect' },
        { type: 'createSocket', gen: 2 },
        { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 35_000 },
        { type: 'setAutoStart', autoStart: true },
      ])
      expect(publishOf(d.effects).retryAt).toBeNull()
    })

    it.each(['CONNECTING', 'AWAITING_QR', 'PAIRED_RESTARTING', 'OPEN'])('while %s changes nothing', (phase) => {
      const d = awaitingQr()
      if (phase === 'CONNECTING') d.s = startedPaired().s
      if (phase === 'PAIRED_RESTARTING') d.send({ type: 'paired', gen: d.gen, me: ME })
      if (phase === 'OPEN') d.s = opened().s
      const before = d.s
      expect(d.send({ type: 'start', session: PAIRED })).toEqual([])
      expect(d.s).toBe(before)
    })
  })

  describe('qr', () => {
    it('in CONNECTING moves to AWAITING_QR, disarms the watchdog and publishes without the QR', () => {
      const d = new Drive()
      d.send({ type: 'start', session: null })
      expect(d.send({ type: 'qr', gen: 1, qr: '2@a,b,c,d' })).toEqual([
        { type: 'cancelTimer', kind: 'connectWatchdog' },
        {
          type: 'publish',
          patch: { state: 'connecting', reason: null, displayStatus: 'Waiting for QR scan', retryAt: null, presenceStatus: 'unavailable', event: 'qr_ready' },
        },
      ])
      expect(d.s).toMatchObject({ phase: 'AWAITING_QR', qr: '2@a,b,c,d' })
    })

    it('in AWAITING_QR replaces the QR and publishes nothing', () => {
      const d = awaitingQr()
      expect(d.send({ type: 'qr', gen: 1, qr: '2@ref2,noise,identity,adv' })).toEqual([])
      expect(d.s.qr).toBe('2@ref2,noise,identity,adv')
    })

    it('requests a pairing code at the first QR when a number was given, and only once', () => {
      const d = new Drive()
      d.send({ type: 'start', session: null, pairingNumber: '15551234567' })
      expect(withoutPublish(d.send({ type: 'qr', gen: 1, qr: 'q1' }))).toEqual([
        { type: 'cancelTimer', kind: 'connectWatchdog' },
        { type: 'requestPairingCode', number: '15551234567' },
      ])
      expect(d.send({ type: 'qr', gen: 1, qr: 'q2' })).toEqual([])
      expect(publishOf(d.send({ type: 'pairingCode', gen: 1, code: 'KC4LVSL1' })).displayStatus).toBe('Waiting for pairing code')
      expect(d.s.pairingCode).toBe('KC4LVSL1')
    })

    it('requests a pairing code at once when a number arrives while the QR is shown', () => {
      const d = awaitingQr()
      expect(d.send({ type: 'start', session: null, pairingNumber: '15550001111' })).toEqual([
        { type: 'requestPairingCode', number: '15550001111' },
      ])
      expect(d.send({ type: 'start', session: null, pairingNumber: '15550001111' })).toEqual([])
      d.send({ type: 'pairingFailed', gen: 1 })
      expect(d.send({ type: 'start', session: null, pairingNumber: '15550001111' })).toEqual([
        { type: 'requestPairingCode', number: '15550001111' },
      ])
    })
  })

  describe('paired, then closed 515', () => {
    it('publishes the new number, restarts after 0–250 ms without counting a failure, then opens', () => {
      const d = awaitingQr()
      const fresh: Me = { jid: '15551234567@s.whatsapp.net' }
      expect(d.send({ type: 'paired', gen: 1, me: fresh })).toEqual([
        {
          type: 'publish',
          patch: {
            state: 'connecting',
            reason: null,
            displayStatus: 'Connecting…',
            event: 'pair_success',
            retryAt: null,
            presenceStatus: 'unavailable',
            numberJid: fresh.jid,
            profile: { name: '' },
          },
        },
      ])
      expect(d.s).toMatchObject({ phase: 'PAIRED_RESTARTING', paired: true })

      d.random = 0.4
      expect(d.close(515, 'Stream Errored (restart required)')).toEqual([
        { type: 'scheduleTimer', kind: 'reconnect', ms: 100 },
        {
          type: 'publish',
          patch: {
            state: 'connecting',
            reason: { code: 515, name: 'restartRequired', message: 'Stream Errored (restart required)' },
            displayStatus: 'Connecting…',
            event: 'pair_success',
            retryAt: iso(T0 + 100),
            presenceStatus: 'unavailable',
            numberJid: fresh.jid,
            profile: { name: '' },
          },
        },
      ])
      expect(d.s).toMatchObject({ phase: 'CONNECTING', live: false, attempt: 0, dueAt: T0 + 100 })

      d.now += 100
      const restart = d.timer('reconnect')
      expect(withoutPublish(restart)).toEqual([
        { type: 'createSocket', gen: 2 },
        { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 35_000 },
      ])
      expect(publishOf(restart)).toMatchObject({ state: 'connecting', displayStatus: 'Connecting…', retryAt: null })
      d.send({ type: 'creds', gen: 2, me: { ...fresh, name: 'Ana' }, platform: 'android', paired: true })
      expect(publishOf(d.open(null))).toEqual({ ...onlinePatch, reason: null })
    })

    it('from OPEN disarms the stable-open timer and restarts after the jitter, keeping the attempt count', () => {
      const d = opened()
      d.s = { ...d.s, attempt: 2 }
      expect(d.close(515, 'Stream Errored (restart required)')).toEqual([
        { type: 'cancelTimer', kind: 'stableOpen' },
        { type: 'scheduleTimer', kind: 'reconnect', ms: 125 },
        {
          type: 'publish',
          patch: {
            state: 'connecting',
            reason: { code: 515, name: 'restartRequired', message: 'Stream Errored (restart required)' },
            displayStatus: 'Connecting…',
            event: 'pair_success',
            retryAt: iso(T0 + 125),
            presenceStatus: 'unavailable',
            numberJid: ME.jid,
            profile: ANA_PROFILE,
          },
        },
      ])
      expect(d.s).toMatchObject({ phase: 'CONNECTING', live: false, attempt: 2, dueAt: T0 + 125 })
    })

    it('from CONNECTING disarms the connect watchdog and restarts after the jitter', () => {
      const d = startedPaired()
      expect(withoutPublish(d.close(515, 'Stream Errored (restart required)'))).toEqual([
        { type: 'cancelTimer', kind: 'connectWatchdog' },
        { type: 'scheduleTimer', kind: 'reconnect', ms: 125 },
      ])
      expect(publishOf(d.effects)).toMatchObject({ state: 'connecting', displayStatus: 'Connecting…', retryAt: iso(T0 + 125) })
      expect(d.s).toMatchObject({ phase: 'CONNECTING', live: false, attempt: 0, dueAt: T0 + 125 })
      d.now += 125
      expect(withoutPublish(d.timer('reconnect'))).toEqual([
        { type: 'createSocket', gen: 2 },
        { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 35_000 },
      ])
    })

    it.each([0, 0.999999])('with random %s restarts within 0–250 ms', (r) => {
      const d = startedPaired()
      d.random = r
      const effects = d.close(515, 'Stream Errored (restart required)')
      expect(effects).toContainEqual({ type: 'scheduleTimer', kind: 'reconnect', ms: r === 0 ? 0 : 250 })
    })
  })

  describe('open', () => {
    it('from CONNECTING disarms the watchdog, arms the stable-open timer, fetches the profile and publishes Online', () => {
      const d = startedPaired()
      expect(d.open()).toEqual([
        { type: 'cancelTimer', kind: 'connectWatchdog' },
        { type: 'scheduleTimer', kind: 'stableOpen', ms: 60_000 },
        { type: 'fetchProfile', jid: ME.jid },
        { type: 'publish', patch: onlinePatch },
      ])
    })

    it('with keepOnlineStatus asks for available presence', () => {
      const d = new Drive(initialMachine(true))
      d.send({ type: 'start', session: PAIRED })
      expect(d.open()).toContainEqual({ type: 'setPresence', presence: 'available' })
    })

    it('keeps the isOnline that Baileys reports just before open', () => {
      const d = startedPaired()
      expect(d.send({ type: 'online', gen: 1, online: true })).toEqual([])
      expect(publishOf(d.open()).presenceStatus).toBe('available')
    })
  })

  describe('while OPEN', () => {
    it('marks synced without publishing', () => {
      const d = opened()
      expect(d.send({ type: 'synced', gen: 1 })).toEqual([])
      expect(d.s.synced).toBe(true)
    })

    it('publishes presence changes', () => {
      const d = opened()
      expect(publishOf(d.send({ type: 'online', gen: 1, online: true })).presenceStatus).toBe('available')
      expect(publishOf(d.send({ type: 'online', gen: 1, online: false })).presenceStatus).toBe('unavailable')
    })

    it('publishes a new push name from creds', () => {
      const d = opened()
      const patch = publishOf(d.send({ type: 'creds', gen: 1, me: { ...ME, name: 'Ana B' }, platform: 'android', paired: true }))
      expect(patch.profile).toEqual({ ...ANA_PROFILE, name: 'Ana B' })
    })

    it('ignores the typed number that a pairing-code request puts in creds', () => {
      const d = awaitingQr()
      const before = d.s
      expect(d.send({ type: 'creds', gen: 1, me: { jid: '15550001111@s.whatsapp.net', name: '~' }, platform: null, paired: false })).toEqual([])
      expect(d.s).toBe(before)
    })

    it('refetches the profile when the avatar changes and publishes the result', () => {
      const d = opened()
      expect(d.send({ type: 'avatarChanged', gen: 1 })).toEqual([{ type: 'fetchProfile', jid: ME.jid }])
      const patch = publishOf(d.send({ type: 'profile', gen: 1, pictureUrl: 'https://pps.example/a.jpg', isBusiness: true, businessName: 'Ana Shop' }))
      expect(patch.profile).toEqual({ name: 'Ana', pictureUrl: 'https://pps.example/a.jpg', isBusiness: true, businessName: 'Ana Shop' })
    })

    it('keeps the old picture when a fetch failed (pictureUrl undefined)', () => {
      const d = opened()
      d.send({ type: 'profile', gen: 1, pictureUrl: 'https://pps.example/a.jpg', isBusiness: false })
      expect(d.send({ type: 'profile', gen: 1, isBusiness: false })).toEqual([])
      expect(d.s.pictureUrl).toBe('https://pps.example/a.jpg')
    })

    it('sends presence when keepOnlineStatus changes and the reported presence differs', () => {
      const d = opened()
      expect(d.send({ type: 'presenceWanted', online: true })).toEqual([{ type: 'setPresence', presence: 'available' }])
      d.send({ type: 'online', gen: 1, online: true })
      expect(d.send({ type: 'presenceWanted', online: false })).toEqual([{ type: 'setPresence', presence: 'unavailable' }])
    })

    it('asks for available presence again once the push name arrives (Baileys skips it without one)', () => {
      const d = new Drive(initialMachine(true))
      d.send({ type: 'start', session: { paired: true, me: { jid: ME.jid }, platform: 'android' } })
      d.open({ jid: ME.jid })
      expect(withoutPublish(d.send({ type: 'creds', gen: 1, me: ME, platform: 'android', paired: true }))).toEqual([
        { type: 'setPresence', presence: 'available' },
      ])
      expect(withoutPublish(d.send({ type: 'creds', gen: 1, me: { ...ME, name: 'Ana B' }, platform: 'android', paired: true }))).toEqual([])
    })

    it('only stores keepOnlineStatus while not open', () => {
      const d = startedPaired()
      expect(d.send({ type: 'presenceWanted', online: true })).toEqual([])
      expect(d.open()).toContainEqual({ type: 'setPresence', presence: 'available' })
    })
  })

  describe('closed, transient (408, 428, 500, 503, no code)', () => {
    it('from OPEN waits with jittered backoff and publishes the reason, the attempt and retryAt', () => {
      const d = opened()
      expect(d.close(428, 'Connection Terminated')).toEqual([
        { type: 'cancelTimer', kind: 'stableOpen' },
        { type: 'scheduleTimer', kind: 'reconnect', ms: 750 },
        {
          type: 'publish',
          patch: {
            state: 'connecting',
            reason: { code: 428, name: 'connectionClosed', message: 'Connection Terminated' },
            displayStatus: 'Reconnecting (connection closed), attempt 1',
            event: 'connecting',
            retryAt: iso(T0 + 750),
            presenceStatus: 'unavailable',
            numberJid: ME.jid,
            profile: ANA_PROFILE,
          },
        },
      ])
      expect(d.s).toMatchObject({ phase: 'RECONNECT_WAIT', attempt: 1, dueAt: T0 + 750, live: false })
    })

    it('starts the next generation when the reconnect timer fires', () => {
      const d = opened()
      d.close(408, 'Connection was lost')
      d.now += 750
      expect(d.timer('reconnect')).toEqual([
        { type: 'createSocket', gen: 2 },
        { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 35_000 },
        {
          type: 'publish',
          patch: {
            state: 'connecting',
            reason: { code: 408, name: 'connectionLost', message: 'Connection was lost' },
            displayStatus: 'Connecting…',
            event: 'connecting',
            retryAt: null,
            presenceStatus: 'unavailable',
            numberJid: ME.jid,
            profile: ANA_PROFILE,
          },
        },
      ])
    })

    it('doubles the delay per attempt up to 60 s', () => {
      const d = startedPaired()
      d.random = 0.999999
      const delays: number[] = []
      for (let i = 0; i < 9; i++) {
        const schedule = d.close(408, 'Timed Out').find((e) => e.type === 'scheduleTimer')
        delays.push(schedule?.type === 'scheduleTimer' ? schedule.ms : -1)
        d.timer('reconnect')
      }
      expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000])
      expect(d.s.attempt).toBe(9)
    })

    it('uses base 5 s and cap 5 min for 503', () => {
      const d = opened()
      d.random = 0
      expect(d.close(503, 'Stream Errored (service-unavailable)')).toContainEqual({ type: 'scheduleTimer', kind: 'reconnect', ms: 2_500 })
    })

    it('does not reset the attempt counter for an open that drops within 60 s', () => {
      const d = opened()
      d.close(428, 'Connection Terminated')
      d.timer('reconnect')
      d.open()
      d.now += 59_000
      const effects = d.close(428, 'Connection Terminated')
      expect(effects).toContainEqual({ type: 'scheduleTimer', kind: 'reconnect', ms: 1_500 })
      expect(publishOf(effects).displayStatus).toBe('Reconnecting (connection closed), attempt 2')
    })

    it('resets the attempt counter once OPEN lasted 60 s', () => {
      const d = opened()
      d.close(428, 'Connection Terminated')
      d.timer('reconnect')
      d.open()
      d.now += 60_000
      expect(d.timer('stableOpen')).toEqual([])
      expect(d.s).toMatchObject({ attempt: 0, stable: true })
      const effects = d.close(428, 'Connection Terminated')
      expect(effects).toEqual([
        { type: 'scheduleTimer', kind: 'reconnect', ms: 750 },
        expect.objectContaining({ type: 'publish' }),
      ])
      expect(publishOf(effects).displayStatus).toBe('Reconnecting (connection closed), attempt 1')
    })

    it('names a close without a code connectionError', () => {
      const d = opened()
      expect(publishOf(d.close(undefined, 'boom')).reason).toEqual({ code: null, name: 'connectionError', message: 'boom' })
    })

    it('parks in NEEDS_ATTENTION at the fifth 500 without a stable open', () => {
      const d = startedPaired()
      for (let i = 1; i <= 4; i++) {
        d.open()
        expect(d.close(500, 'Stream Errored (xml-not-well-formed)')).toContainEqual(
          expect.objectContaining({ type: 'scheduleTimer', kind: 'reconnect' }),
        )
        d.timer('reconnect')
      }
      expect(d.close(500, 'Stream Errored (xml-not-well-formed)')).toEqual([
        { type: 'cancelTimer', kind: 'connectWatchdog' },
        {
          type: 'publish',
          patch: {
            state: 'disconnected',
            reason: { code: 500, name: 'badSession', message: 'Stream Errored (xml-not-well-formed)' },
            displayStatus: 'Needs attention (bad session)',
            event: 'stream_error',
            retryAt: null,
            presenceStatus: 'unavailable',
            numberJid: ME.jid,
            profile: ANA_PROFILE,
          },
        },
      ])
    })

    it('forgets earlier 500s after a stable open', () => {
      const d = startedPaired()
      for (let i = 0; i < 4; i++) {
        d.close(500, 'Stream Errored (xml-not-well-formed)')
        d.timer('reconnect')
      }
      d.open()
      d.timer('stableOpen')
      d.close(500, 'Stream Errored (xml-not-well-formed)')
      expect(d.s).toMatchObject({ phase: 'RECONNECT_WAIT', badSessions: 1 })
    })

    it('parks an unpaired session in QR_EXPIRED at the third transient close', () => {
      const d = awaitingQr()
      expect(publishOf(d.close(428, 'Connection Terminated')).displayStatus).toBe('Reconnecting (connection closed), attempt 1')
      d.timer('reconnect')
      d.send({ type: 'qr', gen: d.gen, qr: 'q' })
      expect(publishOf(d.close(408, 'Connection was lost')).displayStatus).toBe('Reconnecting (connection lost), attempt 2')
      d.timer('reconnect')
      const effects = d.close(408, 'WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)')
      expect(withoutPublish(effects)).toEqual([{ type: 'cancelTimer', kind: 'connectWatchdog' }])
      expect(publishOf(effects)).toMatchObject({ state: 'disconnected', displayStatus: 'Disconnected (QR expired)', retryAt: null })
    })
  })

  describe('closed 408 "QR refs attempts ended"', () => {
    it('parks in QR_EXPIRED without a retry', () => {
      const d = awaitingQr()
      expect(d.close(408, 'QR refs attempts ended')).toEqual([
        {
          type: 'publish',
          patch: {
            state: 'disconnected',
            reason: { code: 408, name: 'qrExpired', message: 'QR refs attempts ended' },
            displayStatus: 'Disconnected (QR expired)',
            event: 'disconnected',
            retryAt: null,
            presenceStatus: 'unavailable',
          },
        },
      ])
      expect(d.s).toMatchObject({ phase: 'QR_EXPIRED', qr: null, live: false })
    })
  })

  describe('closed 440', () => {
    it('retries the first one after 10 s', () => {
      const d = opened()
      const effects = d.close(440, 'Stream Errored (conflict)')
      expect(withoutPublish(effects)).toEqual([
        { type: 'cancelTimer', kind: 'stableOpen' },
        { type: 'scheduleTimer', kind: 'reconnect', ms: 10_000 },
      ])
      expect(publishOf(effects)).toMatchObject({
        state: 'connecting',
        reason: { code: 440, name: 'connectionReplaced', message: 'Stream Errored (conflict)' },
        displayStatus: 'Reconnecting (connection replaced), attempt 1',
        retryAt: iso(T0 + 10_000),
      })
    })

    it('parks in CONFLICT at the second one within 5 min', () => {
      const d = opened()
      d.close(440, 'Stream Errored (conflict)')
      d.now += 10_000
      d.timer('reconnect')
      d.open()
      d.now += 20_000
      const effects = d.close(440, 'Stream Errored (conflict)')
      expect(withoutPublish(effects)).toEqual([{ type: 'cancelTimer', kind: 'stableOpen' }])
      expect(publishOf(effects)).toMatchObject({
        state: 'disconnected',
        displayStatus: 'Disconnected (connection replaced)',
        retryAt: null,
      })
      expect(d.s.phase).toBe('CONFLICT')
    })

    it('retries again when the previous one is more than 5 min old', () => {
      const d = opened()
      d.close(440, 'Stream Errored (conflict)')
      d.timer('reconnect')
      d.open()
      d.now += 300_000
      d.close(440, 'Stream Errored (conflict)')
      expect(d.s.phase).toBe('RECONNECT_WAIT')
    })
  })

  describe('closed 401', () => {
    it.each([
      ['Stream Errored (conflict)', { tag: 'conflict', attrs: { type: 'device_removed' } }],
      ['Connection Failure', { reason: '401', location: 'frc' }],
      ['Intentional Logout', undefined],
    ])('(%s) logs out, wipes the session and clears number and profile', (message, data) => {
      const d = opened()
      expect(d.send({ type: 'closed', gen: 1, code: 401, message, data, initiatedBy: 'remote' })).toEqual([
        { type: 'cancelTimer', kind: 'stableOpen' },
        { type: 'wipeAuth' },
        {
          type: 'publish',
          patch: {
            state: 'loggedout',
            reason: { code: 401, name: 'loggedOut', message },
            displayStatus: 'Logged out',
            event: 'logged_out',
            retryAt: null,
            presenceStatus: 'unavailable',
            numberJid: null,
            profile: { name: '', pictureUrl: null, isBusiness: false, businessName: '' },
          },
        },
      ])
      expect(d.s).toMatchObject({ phase: 'LOGGED_OUT', paired: false, me: null })
    })
  })

  describe('closed 403, 402, 406', () => {
    it.each([
      [403, 'forbidden', 'Blocked (forbidden)'],
      [402, 'temporarilyBanned', 'Blocked (temporarily banned)'],
      [406, 'banned', 'Blocked (banned)'],
    ])('%i parks in BLOCKED as %s and keeps the creds and autoStart', (code, name, displayStatus) => {
      const d = opened()
      const effects = d.close(code, 'Connection Failure')
      expect(withoutPublish(effects)).toEqual([{ type: 'cancelTimer', kind: 'stableOpen' }])
      expect(publishOf(effects)).toMatchObject({
        state: 'disconnected',
        reason: { code, name, message: 'Connection Failure' },
        displayStatus,
        numberJid: ME.jid,
      })
    })
  })

  describe('closed 405', () => {
    it('refreshes the version and retries once after 5 min, publishing connecting with retryAt meanwhile', () => {
      const d = startedPaired()
      expect(d.close(405, 'Connection Failure')).toEqual([
        { type: 'cancelTimer', kind: 'connectWatchdog' },
        { type: 'refreshVersion' },
        { type: 'scheduleTimer', kind: 'reconnect', ms: 300_000 },
        {
          type: 'publish',
          patch: {
            state: 'connecting',
            reason: { code: 405, name: 'clientTooOld', message: 'Connection Failure' },
            displayStatus: 'Needs update (client too old), retrying',
            event: 'client_outdated',
            retryAt: iso(T0 + 300_000),
            presenceStatus: 'unavailable',
            numberJid: ME.jid,
            profile: ANA_PROFILE,
          },
        },
      ])
      expect(d.s).toMatchObject({ phase: 'NEEDS_UPDATE', dueAt: T0 + 300_000, updateRetried: true })
    })

    it('after the retry fails too, parks in NEEDS_UPDATE as disconnected and keeps autoStart', () => {
      const d = startedPaired()
      d.close(405, 'Connection Failure')
      d.now += 300_000
      expect(withoutPublish(d.timer('reconnect'))).toEqual([
        { type: 'createSocket', gen: 2 },
        { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 35_000 },
      ])
      const second = d.close(405, 'Connection Failure')
      expect(withoutPublish(second)).toEqual([{ type: 'cancelTimer', kind: 'connectWatchdog' }])
      expect(publishOf(second)).toMatchObject({ state: 'disconnected', displayStatus: 'Needs update (client too old)', retryAt: null })
      expect(d.s).toMatchObject({ phase: 'NEEDS_UPDATE', dueAt: null })
    })
  })

  describe('closed 411', () => {
    it('parks in NEEDS_ATTENTION', () => {
      const d = opened()
      expect(publishOf(d.close(411, 'Multi-device beta not joined'))).toMatchObject({
        state: 'disconnected',
        reason: { code: 411, name: 'multideviceMismatch', message: 'Multi-device beta not joined' },
        displayStatus: 'Needs attention (multi-device mismatch)',
      })
      expect(d.s.phase).toBe('NEEDS_ATTENTION')
    })
  })

  describe('connect watchdog', () => {
    it('ends a socket stuck in CONNECTING and backs off', () => {
      const d = startedPaired()
      d.now += 35_000
      expect(d.timer('connectWatchdog')).toEqual([
        { type: 'endSocket', why: 'watchdog' },
        { type: 'scheduleTimer', kind: 'reconnect', ms: 750 },
        {
          type: 'publish',
          patch: {
            state: 'connecting',
            reason: { code: null, name: 'connectWatchdog', message: 'No answer from WhatsApp within 35 s' },
            displayStatus: 'Reconnecting (no answer), attempt 1',
            event: 'connecting',
            retryAt: iso(T0 + 35_000 + 750),
            presenceStatus: 'unavailable',
            numberJid: ME.jid,
            profile: ANA_PROFILE,
          },
        },
      ])
      const before = d.s
      expect(d.close(undefined, '', 'watchdog')).toEqual([])
      expect(d.s).toBe(before)
    })

    it('backs off further on each hang', () => {
      const d = startedPaired()
      d.timer('connectWatchdog')
      d.timer('reconnect')
      expect(d.timer('connectWatchdog')).toContainEqual({ type: 'scheduleTimer', kind: 'reconnect', ms: 1_500 })
    })

    it.each(['AWAITING_QR', 'OPEN', 'RECONNECT_WAIT'])('is ignored in %s', (phase) => {
      const d = phase === 'AWAITING_QR' ? awaitingQr() : opened()
      if (phase === 'RECONNECT_WAIT') d.close(428, 'Connection Terminated')
      const before = d.s
      expect(d.timer('connectWatchdog')).toEqual([])
      expect(d.s).toBe(before)
    })
  })

  describe('stop', () => {
    it('ends the live socket, clears autoStart and publishes stopped', () => {
      const d = opened()
      expect(d.send({ type: 'stop' })).toEqual([
        { type: 'cancelTimer', kind: 'stableOpen' },
        { type: 'endSocket', why: 'stop' },
        { type: 'setAutoStart', autoStart: false },
        {
          type: 'publish',
          patch: {
            state: 'disconnected',
            reason: { code: null, name: 'stopped', message: 'Stopped by the hub' },
            displayStatus: 'Disconnected (stopped)',
            event: 'disconnected',
            retryAt: null,
            presenceStatus: 'unavailable',
            numberJid: ME.jid,
            profile: ANA_PROFILE,
          },
        },
      ])
    })

    it('ignores the close its own end() causes', () => {
      const d = opened()
      d.send({ type: 'stop' })
      const before = d.s
      expect(d.close(undefined, '', 'stop')).toEqual([])
      expect(d.s).toBe(before)
    })

    it('cancels a pending reconnect', () => {
      const d = opened()
      d.close(428, 'Connection Terminated')
      expect(withoutPublish(d.send({ type: 'stop' }))).toEqual([
        { type: 'cancelTimer', kind: 'reconnect' },
        { type: 'setAutoStart', autoStart: false },
      ])
      expect(d.s).toMatchObject({ phase: 'STOPPED', dueAt: null })
    })

    it('is a no-op when nothing runs', () => {
      const d = awaitingQr()
      d.close(408, 'QR refs attempts ended')
      const before = d.s
      expect(d.send({ type: 'stop' })).toEqual([])
      expect(d.s).toBe(before)
    })
  })

  describe('logout', () => {
    it('with a live socket asks it to log out, then the 401 close wipes the session', () => {
      const d = opened()
      expect(d.send({ type: 'logout' })).toEqual([{ type: 'cancelTimer', kind: 'stableOpen' }, { type: 'logoutSocket' }])
      expect(d.close(401, 'Intentional Logout')).toEqual([
        { type: 'wipeAuth' },
        {
          type: 'publish',
          patch: {
            state: 'loggedout',
            reason: { code: 401, name: 'loggedOut', message: 'Intentional Logout' },
            displayStatus: 'Logged out',
            event: 'logged_out',
            retryAt: null,
            presenceStatus: 'unavailable',
            numberJid: null,
            profile: { name: '', pictureUrl: null, isBusiness: false, businessName: '' },
          },
        },
      ])
    })

    it('ends in LOGGED_OUT whatever close follows it', () => {
      const d = startedPaired()
      d.send({ type: 'logout' })
      d.open()
      d.close(undefined, '', 'logout' as 'remote')
      expect(d.s.phase).toBe('LOGGED_OUT')
      expect(d.effects).toContainEqual({ type: 'wipeAuth' })
      expect(publishOf(d.effects).reason).toEqual({ code: null, name: 'loggedOut', message: 'Intentional Logout' })
    })

    it('without a socket wipes and publishes loggedout at once', () => {
      const d = new Drive()
      expect(d.send({ type: 'logout' })).toEqual([
        { type: 'wipeAuth' },
        {
          type: 'publish',
          patch: {
            state: 'loggedout',
            reason: { code: null, name: 'loggedOut', message: 'Intentional Logout' },
            displayStatus: 'Logged out',
            event: 'logged_out',
            retryAt: null,
            presenceStatus: 'unavailable',
            numberJid: null,
            profile: { name: '', pictureUrl: null, isBusiness: false, businessName: '' },
          },
        },
      ])
    })

    it('from RECONNECT_WAIT cancels the retry', () => {
      const d = opened()
      d.close(428, 'Connection Terminated')
      expect(withoutPublish(d.send({ type: 'logout' }))).toEqual([{ type: 'cancelTimer', kind: 'reconnect' }, { type: 'wipeAuth' }])
    })
  })

  describe('autoStart', () => {
    /** Closes that park the instance, each from an open paired session. */
    const parkings: [Phase, (d: Drive) => void][] = [
      ['CONFLICT', (d) => {
        d.close(440, 'Stream Errored (conflict)')
        d.timer('reconnect')
        d.close(440, 'Stream Errored (conflict)')
      }],
      ['BLOCKED', (d) => void d.close(403, 'Connection Failure')],
      ['NEEDS_ATTENTION', (d) => void d.close(411, 'Multi-device beta not joined')],
      ['NEEDS_UPDATE', (d) => {
        d.close(405, 'Connection Failure')
        d.timer('reconnect')
        d.close(405, 'Connection Failure')
      }],
    ]

    it.each(parkings)('is never cleared by the closes that park in %s', (phase, park) => {
      const d = opened()
      d.history = []
      park(d)
      expect(d.s.phase).toBe(phase)
      expect(d.history.filter((e) => e.type === 'setAutoStart')).toEqual([])
    })

    it('is cleared by an explicit stop only', () => {
      const d = opened()
      expect(d.send({ type: 'stop' })).toContainEqual({ type: 'setAutoStart', autoStart: false })
    })
  })

  describe('generations', () => {
    it('ignores events from an older socket', () => {
      const d = awaitingQr()
      d.send({ type: 'paired', gen: 1, me: ME })
      d.close(515, 'Stream Errored (restart required)')
      d.timer('reconnect')
      const before = d.s
      for (const e of [
        { type: 'open', gen: 1, me: ME },
        { type: 'qr', gen: 1, qr: 'late' },
        { type: 'closed', gen: 1, code: 428, message: 'Connection Terminated', initiatedBy: 'remote' },
      ] as const) {
        expect(d.send(e)).toEqual([])
      }
      expect(d.s).toBe(before)
    })

    it('ignores events of the current generation after its close', () => {
      const d = opened()
      d.close(428, 'Connection Terminated')
      const before = d.s
      expect(d.send({ type: 'open', gen: 1, me: ME })).toEqual([])
      expect(d.send({ type: 'online', gen: 1, online: true })).toEqual([])
      expect(d.s).toBe(before)
    })
  })

  describe('stale timers', () => {
    it('ignores reconnect without a scheduled retry and stableOpen outside OPEN', () => {
      const d = startedPaired()
      const before = d.s
      expect(d.timer('reconnect')).toEqual([])
      expect(d.timer('stableOpen')).toEqual([])
      expect(d.s).toBe(before)
    })
  })
})
