/**
 * @module The two list endpoints' bodies (REST contract: the selection rules, the envelopes, the
 * ETag and position headers), rendered from the snapshot and cached as bytes. An entry is valid
 * only while its account's `seq` is unchanged, so a change is visible to the very next request.
 * The hub caches each item's serialised form, so a rebuild re-serialises only changed items.
 * Compressed representations live in the same entry, each made once per body and coding, the
 * first time a client asks (compress.ts explains their ETags); every list answer says
 * `Vary: Accept-Encoding`.
 */
import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { HubError, MSG } from '../../core/errors.js'
import { normaliseFilter } from '../../core/names.js'
import type { ItemShape } from '../../hub/hub.js'
import type { AccountView, InstanceView, Principal } from '../../hub/model.js'
import { joinHeaders, type HeaderPair } from '../../protocol/headers.js'
import type { AccountBudget } from '../../stream/budget.js'
import { Codings, codedEtag, MIN_COMPRESS_BYTES, type Coding } from './compress.js'

/** The part of the hub a list reads. */
export interface ListSource {
  readonly epoch: string
  account(id: number): AccountView | undefined
  instance(id: number): InstanceView | undefined
  instancesOf(accountId: number): InstanceView[]
  lookup(accountId: number, ref: string): InstanceView | undefined
  itemJson(view: InstanceView, shape: ItemShape): Buffer
}

export interface ListBody {
  seq: number
  body: Buffer
  etag: string
  count: number
  /** `ETag`, `Vary`, `X-Hub-Epoch` and `X-Hub-Seq`, joined once per body (a 200's and a 304's). */
  headers: [string, string][]
  /** The compressed representations; null for a body too small to compress. */
  codings: Codings | null
}

/** Bytes an entry costs beyond its key and bodies (its objects, the joined header strings), measured with 40,000 entries. */
const ENTRY_OVERHEAD = 600

const COMMA = Buffer.from(',')
const CLOSE = Buffer.from(']}')
const WACHAT_OPEN = (n: number) => Buffer.from(`{"success":true,"count":${n},"instances":[`)
const RYZE_OPEN = (n: number) =>
  Buffer.from(`{"success":true,"message":"${n} ${n === 1 ? 'Instance' : 'Instances'} found","instances":[`)

export class ListCache {
  private readonly cache: LRUCache<string, ListBody>
  /** Compressed representations made so far (one per body and coding, never one per request). */
  compressions = 0
  /** Lists answered from the cache, and lists that had to be rendered, since start. */
  hits = 0
  misses = 0

  /** `renders` charges each account for the bytes it makes the hub render (cache misses). */
  constructor(
    private readonly hub: ListSource,
    maxBytes: number,
    private readonly renders: AccountBudget,
  ) {
    // The bound counts what an entry really holds: its key (many distinct filters are many keys),
    // the body and its compressed forms, and the entry's own objects and header strings.
    this.cache = new LRUCache({ maxSize: maxBytes, sizeCalculation: (e, key) => e.body.length + (e.codings?.bytes ?? 0) + 2 * key.length + ENTRY_OVERHEAD })
  }

  /**
   * The list a principal asked for. An account token gets every instance, or those the filter
   * names (one unknown name is 404, several drop the unknown ones, only commas an empty list); an
   * instance token gets its own instance, the filter ignored.
   */
  list(shape: ItemShape, p: Principal, rawFilter: string | undefined): ListBody {
    if (p.kind === 'admin') throw new HubError('forbidden', MSG.accountOnly)
    const hub = this.hub
    const account = hub.account(p.accountId)
    if (account === undefined) throw new HubError('notFound', MSG.accountNotFound)
    if (p.kind === 'instance') {
      const id = p.instanceId
      return this.render(shape, account, `#${id}`, () => {
        const inst = hub.instance(id)
        return inst === undefined ? [] : [inst]
      })
    }
    const filter = normaliseFilter(rawFilter)
    if (filter === null) return this.render(shape, account, '*', () => hub.instancesOf(account.id))
    if (filter.length === 1 && hub.lookup(account.id, filter[0]!) === undefined) throw new HubError('notFound', MSG.instanceNotFound)
    return this.render(shape, account, filter.join(','), () => {
      const found = new Map<number, InstanceView>()
      for (const name of filter) {
        const inst = hub.lookup(account.id, name)
        if (inst !== undefined) found.set(inst.id, inst)
      }
      return [...found.values()].sort((a, b) => a.id - b.id)
    })
  }

  /**
   * `key` identifies the selection within the account (normalised filter or own instance);
   * `select` is called only on a miss.
   */
  private render(shape: ItemShape, account: AccountView, key: string, select: () => InstanceView[]): ListBody {
    const cacheKey = `${shape}\u0000${account.id}\u0000${key}`
    const hit = this.cache.get(cacheKey)
    if (hit !== undefined && hit.seq === account.seq) {
      this.hits++
      return hit
    }
    this.misses++
    // Charged after the render (its size is known then); a spent budget refuses the next one.
    if (!this.renders.allows(account.id)) throw new HubError('rateLimited', MSG.rateLimited, 1)
    const epoch = this.hub.epoch
    const items = select()
    const parts: Buffer[] = [shape === 'ryze' ? RYZE_OPEN(items.length) : WACHAT_OPEN(items.length)]
    const tag = createHash('sha1').update(`${epoch}|${shape}|${key}`)
    items.forEach((inst, i) => {
      if (i > 0) parts.push(COMMA)
      parts.push(this.hub.itemJson(inst, shape))
      tag.update(`|${inst.id}.${inst.version}`)
    })
    parts.push(CLOSE)
    const etag = `"${tag.digest('base64url').slice(0, 22)}"`
    const seq = account.seq
    const body = Buffer.concat(parts)
    const position = (t: string): HeaderPair[] => [
      ['ETag', t],
      ['Vary', 'Accept-Encoding'],
      ['X-Hub-Epoch', epoch],
      ['X-Hub-Seq', String(seq)],
    ]
    const coded = (coding: Coding, bytes: Buffer) => {
      const t = codedEtag(etag, coding)
      return { body: bytes, etag: t, headers: [joinHeaders([...position(t), ['Content-Encoding', coding]])], notModified: [joinHeaders(position(t))] }
    }
    const codings =
      body.length < MIN_COMPRESS_BYTES
        ? null
        : new Codings(body, coded, () => {
            this.compressions++
            // Re-weighs the entry with its new representation, if it is still the current one:
            // lru-cache re-measures only a new value, so the entry is stored again as a copy.
            const current = this.cache.peek(cacheKey)
            if (current?.codings === codings) this.cache.set(cacheKey, { ...current })
          })
    const entry: ListBody = { seq, body, etag, count: items.length, headers: [joinHeaders(position(etag))], codings }
    this.renders.charge(account.id, body.length)
    this.cache.set(cacheKey, entry)
    return entry
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.cache.size, bytes: this.cache.calculatedSize }
  }
}
