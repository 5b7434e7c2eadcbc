/**
 * @module The two list endpoints' bodies, rendered from the snapshot and cached as bytes. An entry
 * is valid only while its account's `seq` is unchanged, so a change is visible to the very next
 * request. Per-instance fragments are cached too, so a rebuild re-serialises only changed items.
 */
import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { renderRyzeItem, renderWachatItem } from '../core/item.js'
import { joinHeaders } from '../protocol/headers.js'
import type { AccountState, LiveInstance } from './model.js'

export type ListView = 'ryze' | 'wachat'

export interface ListBody {
  seq: number
  body: Buffer
  etag: string
  count: number
  /** `ETag`, `X-Hub-Epoch` and `X-Hub-Seq`, joined once per body. */
  headers: [string, string][]
}

const COMMA = Buffer.from(',')
const CLOSE = Buffer.from(']}')
const WACHAT_OPEN = (n: number) => Buffer.from(`{"success":true,"count":${n},"instances":[`)
const RYZE_OPEN = (n: number) =>
  Buffer.from(`{"success":true,"message":"${n} ${n === 1 ? 'Instance' : 'Instances'} found","instances":[`)

export class ListViews {
  private readonly cache: LRUCache<string, ListBody>

  constructor(maxBytes: number) {
    this.cache = new LRUCache({ maxSize: maxBytes, sizeCalculation: (e) => e.body.length + 128 })
  }

  /**
   * `key` identifies the selection within the account (normalised filter or own instance);
   * `select` is called only on a miss.
   */
  render(view: ListView, account: AccountState, key: string, epoch: string, select: () => LiveInstance[]): ListBody {
    const cacheKey = `${view}\u0000${account.id}\u0000${key}`
    const hit = this.cache.get(cacheKey)
    if (hit !== undefined && hit.seq === account.seq) return hit
    const items = select()
    const parts: Buffer[] = [view === 'ryze' ? RYZE_OPEN(items.length) : WACHAT_OPEN(items.length)]
    const tag = createHash('sha1').update(`${epoch}|${view}|${key}`)
    items.forEach((inst, i) => {
      if (i > 0) parts.push(COMMA)
      parts.push(view === 'ryze' ? ryzeBytes(inst) : wachatBytes(inst))
      tag.update(`|${inst.id}.${inst.version}`)
    })
    parts.push(CLOSE)
    const etag = `"${tag.digest('base64url').slice(0, 22)}"`
    const entry: ListBody = {
      seq: account.seq,
      body: Buffer.concat(parts),
      etag,
      count: items.length,
      headers: [
        joinHeaders([
          ['ETag', etag],
          ['X-Hub-Epoch', epoch],
          ['X-Hub-Seq', String(account.seq)],
        ]),
      ],
    }
    this.cache.set(cacheKey, entry)
    return entry
  }

  /** Drops an account's entries (deletion); stale entries would be refused by the seq check anyway. */
  dropAccount(accountId: number): void {
    const prefix = `\u0000${accountId}\u0000`
    for (const k of this.cache.keys()) if (k.includes(prefix)) this.cache.delete(k)
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.cache.size, bytes: this.cache.calculatedSize }
  }
}

export function ryzeBytes(inst: LiveInstance): Buffer {
  if (inst.ryzeJson === null || inst.ryzeJson.version !== inst.version) {
    inst.ryzeJson = { version: inst.version, bytes: Buffer.from(JSON.stringify(inst.item)) }
  }
  return inst.ryzeJson.bytes
}

function wachatBytes(inst: LiveInstance): Buffer {
  if (inst.wachatJson === null || inst.wachatJson.version !== inst.version) {
    inst.wachatJson = { version: inst.version, bytes: Buffer.from(JSON.stringify(renderWachatItem(inst))) }
  }
  return inst.wachatJson.bytes
}

export { renderRyzeItem }
