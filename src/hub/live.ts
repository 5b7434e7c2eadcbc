/**
 * @module The hub's instance object. Its config (parsed and opened by the store on first read)
 * and its rendered item are produced on first use, not at start: a restart with 100,000
 * instances renders only what the first requests touch.
 *
 * Hazard: the item is rendered from the current record, so whoever changes the record reads the
 * previous item (to diff against) before changing it (see Hub.applyItemChange).
 */
import { defaultConfig, type InstanceConfig } from '../core/integrations.js'
import { renderRyzeItem, type RyzeItem } from '../core/item.js'
import type { InstanceStatus } from '../core/status.js'
import type { LiveInstance } from './model.js'

export interface LiveFields {
  id: number
  accountId: number
  name: string
  apiInstanceName: string
  createdAt: string
  updatedAt: string
  version: number
  status: InstanceStatus
  tokenHash: string
}

export class Live implements LiveInstance {
  id: number
  accountId: number
  name: string
  apiInstanceName: string
  createdAt: string
  updatedAt: string
  version: number
  status: InstanceStatus
  tokenHash: string
  ryzeJson: LiveInstance['ryzeJson'] = null
  wachatJson: LiveInstance['wachatJson'] = null
  private cfg: InstanceConfig | null = null
  private rendered: RyzeItem | null = null

  /** `stored` reads the stored config (which may parse it then); blocks added since are filled with defaults. */
  constructor(
    f: LiveFields,
    private stored: { readonly config: InstanceConfig } | null,
  ) {
    this.id = f.id
    this.accountId = f.accountId
    this.name = f.name
    this.apiInstanceName = f.apiInstanceName
    this.createdAt = f.createdAt
    this.updatedAt = f.updatedAt
    this.version = f.version
    this.status = f.status
    this.tokenHash = f.tokenHash
  }

  get config(): InstanceConfig {
    if (this.cfg === null) {
      this.cfg = { ...defaultConfig(), ...this.stored!.config }
      this.stored = null
    }
    return this.cfg
  }

  set config(c: InstanceConfig) {
    this.cfg = c
    this.stored = null
  }

  get item(): RyzeItem {
    return (this.rendered ??= renderRyzeItem(this))
  }

  set item(i: RyzeItem) {
    this.rendered = i
  }
}
