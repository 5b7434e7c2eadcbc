/**
 * @module The shared data fixture: deterministic, realistic instances (a mix of connected,
 * connecting, disconnected and logged-out numbers with profiles, and some integrations switched
 * on), seeded into the hub through its own API (`createInstance`, `updateStatus`). The references
 * serve the bytes the hub rendered from this fixture, so every server answers the same body.
 */
import { defaultConfig, type InstanceConfig } from '../src/core/integrations.js'
import type { StatusPatch } from '../src/core/status.js'
import type { Hub } from '../src/hub/hub.js'

/** A small deterministic PRNG (mulberry32), so every run seeds the same data. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SHOPS = ['Loja Centro', 'Suporte', 'Vendas', 'Financeiro', 'Delivery', 'Atendimento', 'Clinica Sorriso', 'Auto Pecas']

export function instanceName(k: number): string {
  return `inst-${String(k).padStart(5, '0')}`
}

export interface FixtureInstance {
  name: string
  config: InstanceConfig
  status: StatusPatch
}

/** Instance number `k` (global across accounts). */
export function fixtureInstance(k: number): FixtureInstance {
  const r = rng(k + 1)
  const config = defaultConfig()
  if (r() < 0.3) {
    config.webhooks.default = {
      label: 'default',
      enabled: true,
      // Loopback: refused by the address guard before any socket opens (the bench never leaves the machine).
      url: `http://127.0.0.1:9/wa/${k}`,
      authorization: 'Bearer secret',
      byEvents: false,
      events: ['message.exchange', 'instance.state'],
      mediaBase64: false,
      signingSecret: `whsec_${Buffer.from(`bench-signing-secret-${String(k).padStart(10, '0')}`).toString('base64')}`,
    }
  }
  if (r() < 0.1) config.chatwoot = { ...config.chatwoot, enabled: true, status: 'active', baseUrl: 'https://chat.example.com', accountId: 3, inboxName: `inbox-${k}` }
  const roll = r()
  const number = `55119${String(90000000 + ((k * 7919) % 9999999)).padStart(8, '0')}`
  const shop = SHOPS[k % SHOPS.length]!
  let status: StatusPatch
  if (roll < 0.7) {
    status = {
      state: 'connected',
      displayStatus: 'Online',
      numberJid: `${number}:${(k % 30) + 1}@s.whatsapp.net`,
      presenceStatus: 'available',
      profile: {
        name: `${shop} ${k}`,
        pictureUrl: `https://pps.whatsapp.net/v/t61.24694-24/${100000000 + k}_n.jpg?ccb=11-4&oh=01_Q5AaI${k}&oe=67A1B2C3`,
        isBusiness: r() < 0.5,
        businessName: r() < 0.5 ? shop : '',
      },
    }
  } else if (roll < 0.8) {
    status = { state: 'connecting', displayStatus: 'Waiting for QR scan', presenceStatus: 'unavailable' }
  } else if (roll < 0.95) {
    status = {
      state: 'disconnected',
      displayStatus: 'Disconnected (connection lost)',
      numberJid: `${number}:1@s.whatsapp.net`,
      reason: { code: 428, name: 'connectionClosed', message: 'Connection Closed' },
      profile: { name: `${shop} ${k}`, pictureUrl: null, isBusiness: false, businessName: '' },
    }
  } else {
    status = { state: 'loggedout', displayStatus: 'Logged out', reason: { code: 401, name: 'loggedOut', message: 'Logged out from the phone' } }
  }
  return { name: instanceName(k), config, status }
}

/** Creates `count` fixture instances (numbers `first`…) in the account; returns their ids. */
export function seedAccount(hub: Hub, accountId: number, first: number, count: number): number[] {
  const ids: number[] = []
  for (let k = first; k < first + count; k++) {
    const f = fixtureInstance(k)
    const { instance } = hub.createInstance(accountId, f.name, f.config)
    hub.updateStatus(instance.id, f.status)
    ids.push(instance.id)
  }
  return ids
}

/**
 * The status change the generators apply: the presence flips and the display text carries the
 * time it was applied (monotonic ms), which the client reads back for end-to-end latency.
 */
export function changePatch(flip: boolean, stampMs: number): StatusPatch {
  return { presenceStatus: flip ? 'available' : 'unavailable', displayStatus: `Online t=${stampMs.toFixed(3)}` }
}

/** Where the stamp sits in a frame: the client searches for this marker. */
export const STAMP_MARKER = 't='
