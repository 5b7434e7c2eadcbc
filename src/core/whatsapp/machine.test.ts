import { describe, expect, it } from 'vitest'
import type { StatusPatch } from '../status.js'
import type { Effect } from './effects.js'
import type { CloseCause, InitiatedBy, MachineEvent, Me, SessionSnapshot, TimerKind } from './events.js'
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
  close(
    code: number | undefined,
    message: string,
    initiatedBy: InitiatedBy = 'remote',
    extra: { cause?: CloseCause; detail?: string } = {},
  ) {
    return this.send({ type: 'closed', gen: this.gen, code, message, initiatedBy, ...extra })
  }
  /** A close Baileys builds from a ws / TCP / TLS error, as the adapter classifies it. */
  netClose(code: number, inner: string, cause: CloseCause, detail: string | null = null) {
    return this.send({ type: 'closed', gen: this.gen, code, message: `WebSocket Error (${inner})`, cause, detail, initiatedBy: 'remote' })
  }
  timer(kind: TimerKind, extra: { idleMs?: number | null; viaProxy?: boolean } = {}) {
    return this.send({ type: 'timer', kind, ...extra })
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
  synced: false,
  historySync: null,
  closeDetail: null,
  numberJid: ME.jid,
  profile: ANA_PROFILE,
}

describe('reduce', () => {
  describe('start', () => {
    it('from STOPPED creates socket generation 1, arms the connect watchdog and publishes connecting', () => {
      const d = new Drive()
      expect(d.send({ type: 'start', session: null })).toEqual([
        { type: 'createSocket', gen: 1 },
        { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 55_000 },
        { type: 'setAutoStart', autoStart: true },
        {
          type: 'publish',
          patch: { state: 'connecting', reason: null, displayStatus: 'Connecting…', retryAt: null, presenceStatus: 'unavailable', synced: false, historySync: null, closeDetail: null, event: 'connecting' },
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
        synced: false,
        historySync: null,
        closeDetail: null,
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
          { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 55_000 },
          { type: 'setAutoStart', autoStart: true },
        ])
        expect(d.s).toMatchObject({ phase: 'CONNECTING', attempt: 0, badSessions: 0, conflicts: [], unpairedTries: 0 })
      },
    )

    it.each<Phase>(['QR_EXPIRED', 'LOGGED_OUT'])('from %s without a session asks for a QR, or a pairing code when given a number', (phase) => {
      const d = new Drive({ ...initialMachine(), phase, gen: 2, unpairedTries: 3 })
      expect(withoutPublish(d.send({ type: 'start', session: null, pairingNumber: '15550001111' }))).toEqual([
        { type: 'createSocket', gen: 3 },
        { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 55_000 },
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
        synced: false,
        historySync: null,
        closeDetail: null,
      })
    })

    it('from NEEDS_UPDATE with its retry pending cancels the retry and connects at once', () => {
      const d = startedPaired()
      d.close(405, 'Connection Failure')
      expect(withoutPublish(d.send({ type: 'start', session: PAIRED }))).toEqual([
        { type: 'cancelTimer', kind: 'reconnect' },
        { type: 'createSocket', gen: 2 },
        { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 55_000 },
        { type: 'setAutoStart', autoStart: true },
      ])
      expect(d.s).toMatchObject({ phase: 'CONNECTING', dueAt: null, updateRetried: false })
      expect(publishOf(d.effects)).toMatchObject({ state: 'connecting', displayStatus: 'Connecting…', retryAt: null })
    })

    it('from the reconnect endpoint publishes manual_reconnect, and a later retry plain connecting', () => {
      const d = opened()
      d.close(428, 'Connection Terminated')
      expect(publishOf(d.send({ type: 'start', session: PAIRED, manual: true })).event).toBe('manual_reconnect')
      d.close(428, 'Connection Terminated')
      expect(publishOf(d.timer('reconnect')).event).toBe('connecting')
    })

    it('from RECONNECT_WAIT cancels the pending retry and connects at once', () => {
      const d = opened()
      d.close(428, 'Connection Terminated')
      expect(withoutPublish(d.send({ type: 'start', session: PAIRED }))).toEqual([
        { type: 'cancelTimer', kind: 'reconnect' },
        { type: 'createSocket', gen: 2 },
        { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 55_000 },
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
          patch: { state: 'connecting', reason: null, displayStatus: 'Waiting for QR scan', retryAt: null, presenceStatus: 'unavailable', synced: false, historySync: null, closeDetail: null, event: 'qr_ready' },
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
            synced: false,
            historySync: null,
            closeDetail: null,
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
            synced: false,
            historySync: null,
            closeDetail: null,
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
        { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 55_000 },
      ])
      expect(publishOf(restart)).toMatchObject({ state: 'connecting', displayStatus: 'Connecting…', retryAt: null })
      d.send({ type: 'creds', gen: 2, me: { ...fresh, name: 'Ana' }, platform: 'android', paired: true })
      expect(publishOf(d.open(null))).toEqual({ ...onlinePatch, reason: null })
    })

    it('from OPEN disarms the stable-open timer and restarts after the jitter, keeping the attempt count', () => {
      const d = opened()
      d.s = { ...d.s, attempt: 2 }
      expect(d.close(515, 'Stream Errored (restart required)')).toEqual([
        { type: 'cancelTimer', kind: 'stableOpen' }, { type: 'cancelTimer', kind: 'silence' },
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
            synced: false,
            historySync: null,
            closeDetail: null,
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
        { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 55_000 },
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
    it('from CONNECTING disarms the watchdog, arms the stable-open and silence timers, fetches the profile and publishes Online', () => {
      const d = startedPaired()
      expect(d.open()).toEqual([
        { type: 'cancelTimer', kind: 'connectWatchdog' },
        { type: 'scheduleTimer', kind: 'stableOpen', ms: 60_000 },
        { type: 'scheduleTimer', kind: 'silence', ms: 120_000 },
        { type: 'fetchProfile', jid: ME.jid },
        { type: 'publish', patch: onlinePatch },
      ])
    })

    it('with keepOnlineStatus asks for available presence', () => {
      const d = new Drive(initialMachine(true))
      d.send({ type: 'start', session: PAIRED })
      expect(d.open()).toContainEqual({ type: 'setPresence', presence: 'available' })
    })

    it('keeps a presence written just before open', () => {
      const d = startedPaired()
      expect(d.send({ type: 'online', gen: 1, online: true })).toEqual([])
      expect(publishOf(d.open()).presenceStatus).toBe('available')
    })
  })

  describe('while OPEN', () => {
    it('publishes synced once the offline backlog arrived, and only once', () => {
      const d = opened()
      expect(publishOf(d.send({ type: 'synced', gen: 1 })).synced).toBe(true)
      expect(d.send({ type: 'synced', gen: 1 })).toEqual([])
    })

    it('publishes history-sync progress, keeping isLatest once a chunk had it', () => {
      const d = opened()
      expect(publishOf(d.send({ type: 'historySync', gen: 1, progress: 40, isLatest: true })).historySync).toEqual({ progress: 40, isLatest: true })
      expect(publishOf(d.send({ type: 'historySync', gen: 1, progress: 100, isLatest: false })).historySync).toEqual({ progress: 100, isLatest: true })
      d.close(428, 'Connection Terminated')
      d.timer('reconnect')
      expect(publishOf(d.effects).historySync).toBeNull()
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
      const patch = publishOf(d.send({ type: 'profile', gen: 1, pictureUrl: 'https://pps.example/a.jpg' }))
      expect(patch.profile).toEqual({ name: 'Ana', pictureUrl: 'https://pps.example/a.jpg', isBusiness: false, businessName: '' })
    })

    it('keeps the old picture when a fetch failed (pictureUrl undefined) and tries again in 10 min', () => {
      const d = opened()
      d.send({ type: 'profile', gen: 1, pictureUrl: 'https://pps.example/a.jpg' })
      expect(d.send({ type: 'profile', gen: 1 })).toEqual([{ type: 'scheduleTimer', kind: 'profileRefresh', ms: 600_000 }])
      expect(d.s.pictureUrl).toBe('https://pps.example/a.jpg')
      d.now += 600_000
      expect(d.timer('profileRefresh')).toEqual([{ type: 'fetchProfile', jid: ME.jid }])
    })

    it('refetches a CDN picture an hour before the expiry in its oe= parameter', () => {
      const d = opened()
      const expiry = T0 + 3 * 86_400_000
      const url = `https://pps.whatsapp.net/v/t61.24694-24/1_2_3_n.jpg?ccb=11-4&oh=01_Q5&oe=${(expiry / 1000).toString(16).toUpperCase()}&_nc_sid=5e03e0`
      expect(withoutPublish(d.send({ type: 'profile', gen: 1, pictureUrl: url }))).toEqual([
        { type: 'scheduleTimer', kind: 'profileRefresh', ms: 24 * 3_600_000 },
      ])
      const soon = `https://pps.whatsapp.net/v/x_n.jpg?oh=01_Q5&oe=${((T0 + 5 * 3_600_000) / 1000).toString(16)}`
      expect(withoutPublish(d.send({ type: 'profile', gen: 1, pictureUrl: soon }))).toEqual([
        { type: 'scheduleTimer', kind: 'profileRefresh', ms: 4 * 3_600_000 },
      ])
      expect(d.send({ type: 'timer', kind: 'profileRefresh' })).toEqual([{ type: 'fetchProfile', jid: ME.jid }])
    })

    it('refreshes a picture URL without an expiry every 6 h, and stops refreshing once there is no picture', () => {
      const d = opened()
      expect(withoutPublish(d.send({ type: 'profile', gen: 1, pictureUrl: 'https://pps.example/a.jpg' }))).toEqual([
        { type: 'scheduleTimer', kind: 'profileRefresh', ms: 6 * 3_600_000 },
      ])
      expect(withoutPublish(d.send({ type: 'profile', gen: 1, pictureUrl: null }))).toEqual([{ type: 'cancelTimer', kind: 'profileRefresh' }])
      expect(publishOf(d.effects).profile).toMatchObject({ pictureUrl: null })
    })

    it('disarms the picture refresh when the socket closes', () => {
      const d = opened()
      d.send({ type: 'profile', gen: 1, pictureUrl: 'https://pps.example/a.jpg' })
      expect(withoutPublish(d.close(428, 'Connection Terminated'))).toEqual([
        { type: 'cancelTimer', kind: 'stableOpen' },
        { type: 'cancelTimer', kind: 'silence' },
        { type: 'cancelTimer', kind: 'profileRefresh' },
        { type: 'scheduleTimer', kind: 'reconnect', ms: 750 },
      ])
      expect(d.send({ type: 'timer', kind: 'profileRefresh' })).toEqual([])
    })

    it('takes the business name WhatsApp gave, never the push name', () => {
      const d = new Drive()
      d.send({ type: 'start', session: { paired: true, me: { jid: ME.jid, name: 'Ana' }, platform: 'smba' } })
      expect(publishOf(d.open()).profile).toEqual({ name: 'Ana', isBusiness: true })
      expect(publishOf(d.send({ type: 'profile', gen: 1, pictureUrl: null, businessName: 'Ana Bakery Ltd' })).profile).toEqual({
        name: 'Ana',
        pictureUrl: null,
        isBusiness: true,
        businessName: 'Ana Bakery Ltd',
      })
      expect(d.send({ type: 'profile', gen: 1, pictureUrl: null })).toEqual([])
      expect(d.s.businessName).toBe('Ana Bakery Ltd')
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
        { type: 'cancelTimer', kind: 'stableOpen' }, { type: 'cancelTimer', kind: 'silence' },
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
            synced: false,
            historySync: null,
            closeDetail: null,
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
        { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 55_000 },
        {
          type: 'publish',
          patch: {
            state: 'connecting',
            reason: { code: 408, name: 'connectionLost', message: 'Connection was lost' },
            displayStatus: 'Connecting…',
            event: 'connecting',
            retryAt: null,
            presenceStatus: 'unavailable',
            synced: false,
            historySync: null,
            closeDetail: null,
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
        { type: 'cancelTimer', kind: 'silence' },
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
      expect(d.close(500, 'Stream Errored (xml-not-well-formed)', 'remote', { detail: 'xml-not-well-formed' })).toEqual([
        { type: 'cancelTimer', kind: 'connectWatchdog' },
        { type: 'scheduleTimer', kind: 'reconnect', ms: 450_000 },
        {
          type: 'publish',
          patch: {
            state: 'connecting',
            reason: { code: 500, name: 'badSession', message: 'Stream Errored (xml-not-well-formed)' },
            displayStatus: 'Needs attention (bad session), retrying in 8 min',
            event: 'stream_error',
            retryAt: iso(T0 + 450_000),
            presenceStatus: 'unavailable',
            synced: false,
            historySync: null,
            closeDetail: 'xml-not-well-formed',
            numberJid: ME.jid,
            profile: ANA_PROFILE,
          },
        },
      ])
      expect(d.s).toMatchObject({ phase: 'NEEDS_ATTENTION', heals: 1 })
    })

    it.each<[string, number, string, CloseCause]>([
      ['a self-signed certificate (a TLS-intercepting proxy)', 500, 'self-signed certificate', 'tlsError'],
      ['a bad Sec-WebSocket-Accept', 500, 'Invalid Sec-WebSocket-Accept header', 'tlsError'],
      ['a refused SOCKS proxy', 500, 'connect ECONNREFUSED 127.0.0.1:1080', 'proxyUnreachable'],
      ['a WebSocket protocol error', 500, 'Invalid WebSocket frame: invalid opcode 3', 'wsError'],
    ])('never counts a 500 from %s towards needs attention', (_, code, inner, cause) => {
      const d = startedPaired()
      for (let i = 0; i < 8; i++) {
        d.netClose(code, inner, cause)
        d.timer('reconnect')
      }
      d.netClose(code, inner, cause)
      expect(d.s).toMatchObject({ phase: 'RECONNECT_WAIT', badSessions: 0, attempt: 9 })
    })

    it('retries a TLS failure saying so, with the retry delay in words', () => {
      const d = startedPaired()
      const effects = d.netClose(500, 'self-signed certificate', 'tlsError', 'DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate')
      expect(withoutPublish(effects)).toEqual([
        { type: 'cancelTimer', kind: 'connectWatchdog' },
        { type: 'scheduleTimer', kind: 'reconnect', ms: 750 },
      ])
      expect(publishOf(effects)).toEqual({
        state: 'connecting',
        reason: { code: 500, name: 'tlsError', message: 'WebSocket Error (self-signed certificate)' },
        displayStatus: 'Secure connection to WhatsApp failed (self-signed certificate), retrying in 1s',
        event: 'connecting',
        retryAt: iso(T0 + 750),
        presenceStatus: 'unavailable',
        synced: false,
        historySync: null,
        closeDetail: 'DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate',
        numberJid: ME.jid,
        profile: ANA_PROFILE,
      })
    })

    it('names an unreachable proxy and a DNS failure in words, with growing delays', () => {
      const d = startedPaired()
      d.random = 0.999999
      expect(publishOf(d.netClose(408, 'connect ECONNREFUSED 127.0.0.1:3128', 'proxyUnreachable')).displayStatus).toBe(
        "Can't reach the proxy (connect ECONNREFUSED 127.0.0.1:3128), retrying in 1s",
      )
      for (let i = 0; i < 3; i++) {
        d.timer('reconnect')
        d.netClose(408, 'getaddrinfo ENOTFOUND web.whatsapp.com', 'unreachable')
      }
      expect(publishOf(d.effects)).toMatchObject({
        reason: { code: 408, name: 'unreachable', message: 'WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)' },
        displayStatus: "Can't reach WhatsApp (getaddrinfo ENOTFOUND web.whatsapp.com), retrying in 8s",
        event: 'connecting',
      })
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

    it('parks an unpaired session in QR_EXPIRED at the third transient close while a QR was shown', () => {
      const d = awaitingQr()
      expect(publishOf(d.close(428, 'Connection Terminated')).displayStatus).toBe('Reconnecting (connection closed), attempt 1')
      d.timer('reconnect')
      d.send({ type: 'qr', gen: d.gen, qr: 'q' })
      expect(publishOf(d.close(408, 'Connection was lost')).displayStatus).toBe('Reconnecting (connection lost), attempt 2')
      d.timer('reconnect')
      d.send({ type: 'qr', gen: d.gen, qr: 'q' })
      const effects = d.close(408, 'Connection was lost')
      expect(withoutPublish(effects)).toEqual([])
      expect(publishOf(effects)).toMatchObject({ state: 'disconnected', displayStatus: 'Disconnected (QR expired)', retryAt: null })
    })

    it('never parks an unpaired session that fails before any QR: no route to WhatsApp is not an expired QR', () => {
      const d = new Drive()
      d.send({ type: 'start', session: null })
      for (let i = 0; i < 10; i++) {
        d.netClose(408, 'getaddrinfo ENOTFOUND web.whatsapp.com', 'unreachable')
        d.timer('reconnect')
        d.close(428, 'Connection Terminated')
        d.timer('reconnect')
      }
      const effects = d.netClose(408, 'getaddrinfo ENOTFOUND web.whatsapp.com', 'unreachable', 'ENOTFOUND: getaddrinfo ENOTFOUND web.whatsapp.com')
      expect(d.s).toMatchObject({ phase: 'RECONNECT_WAIT', unpairedTries: 0, attempt: 21 })
      expect(publishOf(effects)).toEqual({
        state: 'connecting',
        reason: { code: 408, name: 'unreachable', message: 'WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)' },
        displayStatus: "Can't reach WhatsApp (getaddrinfo ENOTFOUND web.whatsapp.com), retrying in 45s",
        event: 'connecting',
        retryAt: iso(T0 + 45_000),
        presenceStatus: 'unavailable',
        synced: false,
        historySync: null,
        closeDetail: 'ENOTFOUND: getaddrinfo ENOTFOUND web.whatsapp.com',
      })
    })

    it('does not count a network failure while a QR was shown either', () => {
      const d = awaitingQr()
      for (let i = 0; i < 5; i++) {
        d.netClose(408, 'read ECONNRESET', 'unreachable')
        d.timer('reconnect')
        d.send({ type: 'qr', gen: d.gen, qr: 'q' })
      }
      expect(d.s).toMatchObject({ phase: 'AWAITING_QR', unpairedTries: 0 })
    })
  })

  describe('closed 408 "QR refs attempts ended"', () => {
    it('after pair-success restarts like a 515: Baileys does not clear its QR timer then', () => {
      const d = awaitingQr()
      d.send({ type: 'paired', gen: 1, me: { jid: ME.jid } })
      d.random = 0.4
      expect(d.close(408, 'QR refs attempts ended')).toEqual([
        { type: 'scheduleTimer', kind: 'reconnect', ms: 100 },
        {
          type: 'publish',
          patch: {
            state: 'connecting',
            reason: { code: 408, name: 'restartRequired', message: 'QR refs attempts ended' },
            displayStatus: 'Connecting…',
            event: 'pair_success',
            retryAt: iso(T0 + 100),
            presenceStatus: 'unavailable',
            synced: false,
            historySync: null,
            closeDetail: null,
            numberJid: ME.jid,
            profile: { name: '' },
          },
        },
      ])
      expect(d.s).toMatchObject({ phase: 'CONNECTING', paired: true, dueAt: T0 + 100 })
    })

    it('ignores a QR that the uncleared timer shows after pair-success', () => {
      const d = awaitingQr()
      d.send({ type: 'paired', gen: 1, me: { jid: ME.jid } })
      const before = d.s
      expect(d.send({ type: 'qr', gen: 1, qr: '2@ref3,stale' })).toEqual([])
      expect(d.s).toBe(before)
    })

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
            synced: false,
            historySync: null,
            closeDetail: null,
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
        { type: 'cancelTimer', kind: 'stableOpen' }, { type: 'cancelTimer', kind: 'silence' },
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
      const effects = d.close(440, 'Stream Errored (conflict)', 'remote', { detail: 'conflict:replaced' })
      expect(withoutPublish(effects)).toEqual([
        { type: 'cancelTimer', kind: 'stableOpen' },
        { type: 'cancelTimer', kind: 'silence' },
        { type: 'scheduleTimer', kind: 'reconnect', ms: 450_000 },
      ])
      expect(publishOf(effects)).toMatchObject({
        state: 'connecting',
        displayStatus: 'Connection replaced by another client, retrying in 8 min',
        event: 'stream_replaced',
        closeDetail: 'conflict:replaced',
        retryAt: iso(d.now + 450_000),
      })
      expect(d.s.phase).toBe('CONFLICT')
    })

    it('heals a parked conflict on a slow doubling schedule until a stable open, then forgets it', () => {
      const d = opened()
      const heal: number[] = []
      for (let i = 0; i < 5; i++) {
        d.close(440, 'Stream Errored (conflict)')
        d.timer('reconnect')
        d.open()
        d.close(440, 'Stream Errored (conflict)')
        expect(d.s.phase).toBe('CONFLICT')
        heal.push(d.s.retryDelayMs ?? -1)
        d.now += d.s.retryDelayMs ?? 0
        d.timer('reconnect')
        d.open()
        d.now += 60_000
      }
      expect(heal).toEqual([450_000, 900_000, 1_800_000, 2_700_000, 2_700_000])
      d.timer('stableOpen')
      expect(d.s).toMatchObject({ phase: 'OPEN', heals: 0 })
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
      ['Stream Errored (conflict)', 'conflict:device_removed'],
      ['Connection Failure', 'reason 401, at frc'],
      ['Intentional Logout', null],
    ])('(%s) logs out, wipes the session and clears number and profile', (message, detail) => {
      const d = opened()
      expect(d.send({ type: 'closed', gen: 1, code: 401, message, detail, initiatedBy: 'remote' })).toEqual([
        { type: 'cancelTimer', kind: 'stableOpen' }, { type: 'cancelTimer', kind: 'silence' },
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
            synced: false,
            historySync: null,
            closeDetail: detail,
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
      expect(withoutPublish(effects)).toEqual([{ type: 'cancelTimer', kind: 'stableOpen' }, { type: 'cancelTimer', kind: 'silence' }])
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
            synced: false,
            historySync: null,
            closeDetail: null,
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
        { type: 'scheduleTimer', kind: 'connectWatchdog', ms: 55_000 },
      ])
      const second = d.close(405, 'Connection Failure')
      expect(withoutPublish(second)).toEqual([{ type: 'cancelTimer', kind: 'connectWatchdog' }])
      expect(publishOf(second)).toMatchObject({ state: 'disconnected', displayStatus: 'Needs update (client too old)', retryAt: null })
      expect(d.s).toMatchObject({ phase: 'NEEDS_UPDATE', dueAt: null })
    })
  })

  describe('closed 411', () => {
    it('parks in NEEDS_ATTENTION with a slow retry', () => {
      const d = opened()
      expect(publishOf(d.close(411, 'Multi-device beta not joined'))).toMatchObject({
        state: 'connecting',
        reason: { code: 411, name: 'multideviceMismatch', message: 'Multi-device beta not joined' },
        displayStatus: 'Needs attention (multi-device mismatch), retrying in 8 min',
        event: 'connect_failure',
        retryAt: iso(T0 + 450_000),
      })
      expect(d.s.phase).toBe('NEEDS_ATTENTION')
    })
  })

  describe('closed 515, repeatedly', () => {
    it('backs off like a transient close after three restarts without a stable open (Baileys has no loop guard)', () => {
      const d = startedPaired()
      for (let i = 0; i < 3; i++) {
        d.open()
        expect(d.close(515, 'Stream Errored (restart required)')).toContainEqual({ type: 'scheduleTimer', kind: 'reconnect', ms: 125 })
        d.timer('reconnect')
      }
      d.open()
      const effects = d.close(515, 'Stream Errored (restart required)')
      expect(effects).toContainEqual({ type: 'scheduleTimer', kind: 'reconnect', ms: 750 })
      expect(publishOf(effects)).toMatchObject({ state: 'connecting', displayStatus: 'Reconnecting (restart required), attempt 1', event: 'connecting' })
      d.timer('reconnect')
      d.open()
      d.timer('stableOpen')
      expect(d.close(515, 'Stream Errored (restart required)')).toContainEqual({ type: 'scheduleTimer', kind: 'reconnect', ms: 125 })
    })
  })

  describe('connect watchdog', () => {
    const unreachablePatch = (message: string, name = 'unreachable', lead = "Can't reach WhatsApp") => ({
      state: 'connecting',
      reason: { code: null, name, message },
      displayStatus: `${lead} (${message}), retrying in 1s`,
      event: 'connecting',
      retryAt: iso(T0 + 55_000 + 750),
      presenceStatus: 'unavailable',
      synced: false,
      historySync: null,
      closeDetail: null,
      numberJid: ME.jid,
      profile: ANA_PROFILE,
    })

    it('ends a socket from which nothing ever arrived within 55 s as unreachable and backs off', () => {
      const d = startedPaired()
      d.now += 55_000
      expect(d.timer('connectWatchdog', { idleMs: null })).toEqual([
        { type: 'endSocket', why: 'watchdog' },
        { type: 'scheduleTimer', kind: 'reconnect', ms: 750 },
        { type: 'publish', patch: unreachablePatch('no answer within 55 s') },
      ])
      const before = d.s
      expect(d.close(undefined, '', 'watchdog')).toEqual([])
      expect(d.s).toBe(before)
    })

    it('names the proxy when the socket goes through one (an HTTP proxy that never answers CONNECT)', () => {
      const d = startedPaired()
      d.now += 55_000
      expect(publishOf(d.timer('connectWatchdog', { idleMs: null, viaProxy: true }))).toEqual(
        unreachablePatch('no answer within 55 s', 'proxyUnreachable', "Can't reach the proxy"),
      )
    })

    it('waits on while frames arrive (Baileys awaits several queries after login before open), from the last frame', () => {
      const d = startedPaired()
      d.now += 55_000
      const before = d.s
      expect(d.timer('connectWatchdog', { idleMs: 5_000 })).toEqual([{ type: 'scheduleTimer', kind: 'connectWatchdog', ms: 50_000 }])
      expect(d.s).toBe(before)
      d.now += 50_000
      expect(withoutPublish(d.timer('connectWatchdog', { idleMs: 55_000 }))).toEqual([
        { type: 'endSocket', why: 'watchdog' },
        { type: 'scheduleTimer', kind: 'reconnect', ms: 750 },
      ])
      expect(publishOf(d.effects)).toMatchObject({
        reason: { code: null, name: 'connectWatchdog', message: 'WhatsApp stopped answering while connecting (nothing for 55 s)' },
        displayStatus: 'Reconnecting (no answer), attempt 1',
      })
    })

    it('gives up after 5 min in CONNECTING even while frames arrive', () => {
      const d = startedPaired()
      d.now += 280_000
      expect(d.timer('connectWatchdog', { idleMs: 1_000 })).toEqual([{ type: 'scheduleTimer', kind: 'connectWatchdog', ms: 20_000 }])
      d.now += 20_000
      expect(d.timer('connectWatchdog', { idleMs: 1_000 })).toContainEqual({ type: 'endSocket', why: 'watchdog' })
    })

    it('backs off further on each hang', () => {
      const d = startedPaired()
      d.now += 55_000
      d.timer('connectWatchdog')
      d.timer('reconnect')
      d.now += 55_000
      expect(d.timer('connectWatchdog')).toContainEqual({ type: 'scheduleTimer', kind: 'reconnect', ms: 1_500 })
    })

    it.each(['AWAITING_QR', 'OPEN', 'RECONNECT_WAIT'])('is ignored in %s', (phase) => {
      const d = phase === 'AWAITING_QR' ? awaitingQr() : opened()
      if (phase === 'RECONNECT_WAIT') d.close(428, 'Connection Terminated')
      d.now += 600_000
      const before = d.s
      expect(d.timer('connectWatchdog')).toEqual([])
      expect(d.s).toBe(before)
    })
  })

  describe('silent socket', () => {
    it('restarts an open socket that received nothing for 120 s, as a keep-alive loss, and says so when open again', () => {
      const d = opened()
      d.now += 120_000
      expect(d.timer('silence', { idleMs: 120_000 })).toEqual([
        { type: 'cancelTimer', kind: 'stableOpen' },
        { type: 'endSocket', why: 'silent' },
        { type: 'scheduleTimer', kind: 'reconnect', ms: 750 },
        {
          type: 'publish',
          patch: {
            state: 'connecting',
            reason: { code: null, name: 'silent', message: 'Nothing received from WhatsApp for 120 s' },
            displayStatus: 'Reconnecting (no data received), attempt 1',
            event: 'keepalive_timeout',
            retryAt: iso(T0 + 120_750),
            presenceStatus: 'unavailable',
            synced: false,
            historySync: null,
            closeDetail: null,
            numberJid: ME.jid,
            profile: ANA_PROFILE,
          },
        },
      ])
      expect(d.close(undefined, '', 'silent')).toEqual([])
      d.timer('reconnect')
      expect(publishOf(d.open()).event).toBe('keepalive_restored')
    })

    it('re-arms for the rest of the window while frames arrive', () => {
      const d = opened()
      d.now += 120_000
      const before = d.s
      expect(d.timer('silence', { idleMs: 30_000 })).toEqual([{ type: 'scheduleTimer', kind: 'silence', ms: 90_000 }])
      expect(d.s).toBe(before)
    })

    it.each(['CONNECTING', 'AWAITING_QR', 'RECONNECT_WAIT'])('is ignored in %s', (phase) => {
      const d = phase === 'AWAITING_QR' ? awaitingQr() : phase === 'CONNECTING' ? startedPaired() : opened()
      if (phase === 'RECONNECT_WAIT') d.close(428, 'Connection Terminated')
      const before = d.s
      expect(d.timer('silence', { idleMs: 600_000 })).toEqual([])
      expect(d.s).toBe(before)
    })
  })

  describe('stop', () => {
    it('ends the live socket, clears autoStart and publishes stopped', () => {
      const d = opened()
      expect(d.send({ type: 'stop' })).toEqual([
        { type: 'cancelTimer', kind: 'stableOpen' }, { type: 'cancelTimer', kind: 'silence' },
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
            synced: false,
            historySync: null,
            closeDetail: null,
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
      expect(d.send({ type: 'logout' })).toEqual([{ type: 'cancelTimer', kind: 'stableOpen' }, { type: 'cancelTimer', kind: 'silence' }, { type: 'logoutSocket' }])
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
            synced: false,
            historySync: null,
            closeDetail: null,
            numberJid: null,
            profile: { name: '', pictureUrl: null, isBusiness: false, businessName: '' },
          },
        },
      ])
    })

    it('ends in LOGGED_OUT whatever close follows it, saying the unlink was not confirmed unless it was a 401', () => {
      const d = startedPaired()
      d.send({ type: 'logout' })
      d.open()
      d.close(undefined, '', 'logout')
      expect(d.s.phase).toBe('LOGGED_OUT')
      expect(d.effects).toContainEqual({ type: 'wipeAuth' })
      expect(publishOf(d.effects)).toMatchObject({
        state: 'loggedout',
        reason: {
          code: null,
          name: 'logoutUnconfirmed',
          message: 'Session wiped; the unlink request could not be sent to WhatsApp, so the phone may still list this device',
        },
        displayStatus: 'Logged out (unlink not sent: the phone may still list this device)',
        event: 'logged_out',
      })
    })

    it('of a paired session without a live socket says the device may still be linked', () => {
      const d = opened()
      d.close(428, 'Connection Terminated')
      expect(publishOf(d.send({ type: 'logout' }))).toMatchObject({
        state: 'loggedout',
        reason: { code: null, name: 'logoutUnconfirmed' },
        displayStatus: 'Logged out (unlink not sent: the phone may still list this device)',
      })
    })

    it('takes the runner’s word that a session is linked when the machine has not started it', () => {
      const d = new Drive()
      expect(publishOf(d.send({ type: 'logout', linked: true })).reason).toMatchObject({ name: 'logoutUnconfirmed' })
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
            synced: false,
            historySync: null,
            closeDetail: null,
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
