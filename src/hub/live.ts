/**
 * @module The hub's instance object. Only what finds an instance (ids, names, token hash) is read
 * at start; its record (status, version, times), its config and its rendered item are read,
 * parsed or rendered on first use: a restart with 100,000 instances touches only what the first
 * requests and changes do.
 *
 * Hazards: the item is rendered from the current record, so whoever changes the record reads the
 * previous item (to diff against) before changing it (see Hub.applyItemChange); and an instance
 * is read in full (its item rendered) before its stored row is deleted.
 */
import { defaultConfig, webhookMap, type InstanceConfig } from '../core/integrations.js'
import { renderRyzeItem, type RyzeItem } from '../core/item.js'
import { initialStatus, type InstanceStatus } from '../core/status.js'
import type { InstanceRow } from '../ports/store.js'
import type { LiveInstance } from './model.js'

interface Rec {
  createdAt: string
  updatedAt: string
  version: number
  status: InstanceStatus
}

export class Live implements LiveInstance {
  readonly id: number
  readonly accountId: number
  readonly name: string
  readonly apiInstanceName: string
  tokenHash: string
  ryzeJson: LiveInstance['ryzeJson'] = null
  wachatJson: LiveInstance['wachatJson'] = null
  private rec: Rec | null = null
  private cfg: InstanceConfig | null = null
  private rendered: RyzeItem | null = null

  /** `stored` is read for the record and the config when they are first needed, then let go. */
  constructor(private stored: InstanceRow | null) {
    const s = stored!
    this.id = s.id
    this.accountId = s.accountId
    this.name = s.name
    this.apiInstanceName = s.apiInstanceName
    this.tokenHash = s.tokenHash
  }

  /** The connection state, without reading the rest of a stored record. */
  get connectionState(): InstanceStatus['state'] {
    if (this.rec !== null) return this.rec.status.state
    return this.stored!.state ?? this.record().status.state
  }

  get createdAt(): string {
    return this.record().createdAt
  }

  get updatedAt(): string {
    return this.record().updatedAt
  }

  set updatedAt(v: string) {
    this.record().updatedAt = v
  }

  get version(): number {
    return this.record().version
  }

  set version(v: number) {
    this.record().version = v
  }

  get status(): InstanceStatus {
    return this.record().status
  }

  set status(v: InstanceStatus) {
    this.record().status = v
  }

  get config(): InstanceConfig {
    if (this.cfg === null) {
      // Blocks added since the row was written are filled with defaults.
      const stored = this.stored!.config
      // Webhook labels are user keys: kept in a null-prototype map (see webhookMap).
      this.cfg = { ...defaultConfig(), ...stored, webhooks: webhookMap(stored.webhooks ?? {}) }
      this.release()
    }
    return this.cfg
  }

  set config(c: InstanceConfig) {
    this.cfg = c
    this.release()
  }

  get item(): RyzeItem {
    return (this.rendered ??= renderRyzeItem(this))
  }

  set item(i: RyzeItem) {
    this.rendered = i
  }

  private record(): Rec {
    if (this.rec === null) {
      const s = this.stored!
      this.rec = { createdAt: s.createdAt, updatedAt: s.updatedAt, version: s.version, status: s.status ?? initialStatus(s.createdAt) }
      this.release()
    }
    return this.rec
  }

  private release(): void {
    if (this.rec !== null && this.cfg !== null) this.stored = null
  }
}
