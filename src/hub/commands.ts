/**
 * @module Commands: every change a request asks for (accounts, instances, tokens, settings). Routes
 * call these, never the hub's writes directly. Embedded, they run on the hub at once; in a cluster,
 * on the node that writes the account, and they resolve once the node that answers has applied the
 * result, so its next list shows it (read-your-writes on the answering node).
 */
import { applyConfigUpdate, type ConfigUpdate } from '../core/config-updates.js'
import { HubError, MSG } from '../core/errors.js'
import type { InstanceConfig } from '../core/integrations.js'
import type { Hub } from './hub.js'
import type { AccountView, InstanceView } from './model.js'

export interface Commands {
  createAccount(name: string, instanceLimit: number): Promise<{ account: AccountView; token: string }>
  deleteAccount(id: number): Promise<void>
  rotateAccountToken(id: number): Promise<string>
  createInstance(accountId: number, name: string, config: InstanceConfig, customToken?: string): Promise<{ instance: InstanceView; token: string }>
  /** Deleting an instance already gone is a no-op. */
  deleteInstance(instanceId: number): Promise<void>
  rotateInstanceToken(instanceId: number): Promise<string>
  /** Applies the update to the writer's current config; resolves with the instance after it. */
  updateConfig(instanceId: number, update: ConfigUpdate): Promise<InstanceView>
}

/** The embedded hub's commands: the hub itself, one synchronous write each. */
export class LocalCommands implements Commands {
  constructor(
    private readonly hub: Hub,
    private readonly freshSecret: () => string,
  ) {}

  async createAccount(name: string, instanceLimit: number) {
    return this.hub.createAccount(name, instanceLimit)
  }

  async deleteAccount(id: number) {
    this.hub.deleteAccount(id)
  }

  async rotateAccountToken(id: number) {
    return this.hub.rotateAccountToken(id)
  }

  async createInstance(accountId: number, name: string, config: InstanceConfig, customToken?: string) {
    return this.hub.createInstance(accountId, name, config, customToken)
  }

  async deleteInstance(instanceId: number) {
    this.hub.deleteInstance(instanceId)
  }

  async rotateInstanceToken(instanceId: number) {
    return this.hub.rotateInstanceToken(instanceId)
  }

  async updateConfig(instanceId: number, update: ConfigUpdate) {
    const current = this.hub.instance(instanceId)
    if (current === undefined) throw new HubError('notFound', MSG.instanceNotFound)
    return this.hub.updateConfig(instanceId, applyConfigUpdate(current.config, update, this.freshSecret))
  }
}
