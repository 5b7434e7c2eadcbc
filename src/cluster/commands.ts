/**
 * @module The cluster's Commands: what a request asks for, done where it must be. Account entities
 * (create, delete, token) are compare-and-set writes to sh_state that any node makes; every other
 * change goes to the account's writer (this node when it holds or can take the writer lease, else
 * by request to the node that does). A command resolves once this node has applied its result, so
 * the next list this node answers shows it (read-your-writes on the answering node).
 */
import type { Logger } from 'pino'
import type { Engine } from '../adapters/nats/engine.js'
import { changeSubject, STREAM } from '../adapters/nats/engine.js'
import { applyConfigUpdate, type ConfigUpdate } from '../core/config-updates.js'
import { HubError, MSG } from '../core/errors.js'
import type { InstanceConfig } from '../core/integrations.js'
import type { StatusPatch } from '../core/status.js'
import type { Commands } from '../hub/commands.js'
import type { Hub } from '../hub/hub.js'
import { hashToken, newToken } from '../hub/tokens.js'
import type { Clock } from '../ports/clock.js'
import type { Delivery, DeliveryDesk, DeliveryFilter } from '../ports/outbox.js'
import type { Follower } from './follower.js'
import { K } from './keys.js'
import { isWrongSequence, type Leases } from './leases.js'
import type { NodeDirectory } from './nodes.js'
import { NodeUnreachable, type Rpc } from './rpc.js'
import type { AccountEntry } from './wire.js'
import { NotWriter, type Writers, type WriterTxn } from './writer.js'

/** What a writer op returns: the stream position to wait for, and its value. */
interface Written<T> {
  streamSeq: number
  value: T
}

export type WriterOps = {
  createInstance: { accountId: number; name: string; config: InstanceConfig; token: string }
  deleteInstance: { instanceId: number }
  rotateInstanceToken: { instanceId: number; tokenHash: string }
  updateConfig: { instanceId: number; update: ConfigUpdate }
  status: { instanceId: number; patches: StatusPatch[] }
  /** The deliveries endpoints: answered where the account's webhooks are delivered, its writer. */
  webhookDeliveries: { instanceId: number; filter: DeliveryFilter }
  webhookRetry: { instanceId: number; labels: string[] }
}

export interface ClusterCommandsDeps {
  engine: Engine
  hub: Hub
  writers: Writers
  follower: Follower
  leases: Leases
  rpc: Rpc
  nodes: NodeDirectory
  /** Whether this node may take writer leases (workers only). */
  worker: boolean
  freshSecret: () => string
  clock: Clock
  log: Logger
  leaseTtlMs: number
}

export class ClusterCommands implements Commands {
  /**
   * The node that last wrote each account for this one. A stale entry costs one refused request:
   * the node asked answers NotWriter (another holds the lease) or takes the free lease itself.
   */
  private readonly writerNodes = new Map<number, string>()
  private desk: DeliveryDesk | null = null

  constructor(private readonly d: ClusterCommandsDeps) {}

  /** Where this node answers the deliveries of the accounts it writes (its webhook edge). */
  serveDeliveries(desk: DeliveryDesk): void {
    this.desk = desk
  }

  /** The deliveries endpoints of an instance on any node: asked of its account's writer. */
  readonly deliveries: DeliveryDesk = {
    list: async (instanceId, filter) => (await this.write(this.mustInstance(instanceId).accountId, 'webhookDeliveries', { instanceId, filter })).value,
    requeue: async (instanceId, labels) => (await this.write(this.mustInstance(instanceId).accountId, 'webhookRetry', { instanceId, labels: [...labels] })).value,
  }

  // ---- account entities: any node -------------------------------------------------------------

  async createAccount(name: string, instanceLimit: number) {
    const { state } = this.d.engine
    try {
      await state.create(K.accountName(name), '0')
    } catch (err) {
      if (isWrongSequence(err)) throw new HubError('conflict', MSG.accountNameInUse)
      throw err
    }
    const id = await this.nextId(K.accountCounter)
    const token = newToken()
    const entry: AccountEntry = { id, name, instanceLimit, tokenHash: hashToken(token), createdAt: new Date(this.d.clock.now()).toISOString() }
    await state.put(K.account(id), JSON.stringify(entry))
    await state.put(K.accountName(name), String(id))
    this.d.hub.applyAccount(entry)
    return { account: this.d.hub.account(id)!, token }
  }

  async deleteAccount(id: number) {
    const { state, jsm } = this.d.engine
    const e = await state.get(K.account(id))
    if (e === null || e.operation !== 'PUT') throw new HubError('notFound', MSG.accountNotFound)
    const entry = e.json<AccountEntry>()
    const instances = this.d.hub.account(id)?.ids ?? []
    await state.delete(K.account(id), { previousSeq: e.revision }).catch((err) => {
      if (isWrongSequence(err)) throw new HubError('conflict', 'The account changed meanwhile; retry')
      throw err
    })
    await state.delete(K.accountName(entry.name))
    await state.delete(K.accountSeq(id))
    await Promise.allSettled(instances.map((i) => state.delete(K.instance(i))))
    await jsm.streams.purge(STREAM, { filter: changeSubject(id) })
    if (this.d.hub.account(id) !== undefined) this.d.hub.deleteAccount(id)
  }

  async rotateAccountToken(id: number) {
    const { state } = this.d.engine
    for (;;) {
      const e = await state.get(K.account(id))
      if (e === null || e.operation !== 'PUT') throw new HubError('notFound', MSG.accountNotFound)
      const token = newToken()
      const entry = { ...e.json<AccountEntry>(), tokenHash: hashToken(token) }
      try {
        await state.update(K.account(id), JSON.stringify(entry), e.revision)
      } catch (err) {
        if (isWrongSequence(err)) continue
        throw err
      }
      this.d.hub.applyAccount(entry)
      return token
    }
  }

  // ---- the writer's changes -------------------------------------------------------------------

  async createInstance(accountId: number, name: string, config: InstanceConfig, customToken?: string) {
    const token = customToken ?? newToken()
    const { value: instanceId } = await this.write(accountId, 'createInstance', { accountId, name, config, token })
    const instance = this.d.hub.instance(instanceId)
    if (instance === undefined) throw new HubError('unavailable', 'The instance was created but this node has not seen it yet; list again')
    return { instance, token }
  }

  async deleteInstance(instanceId: number) {
    const inst = this.d.hub.instance(instanceId)
    if (inst === undefined) return
    await this.write(inst.accountId, 'deleteInstance', { instanceId })
  }

  async rotateInstanceToken(instanceId: number) {
    const inst = this.mustInstance(instanceId)
    const token = newToken()
    await this.write(inst.accountId, 'rotateInstanceToken', { instanceId, tokenHash: hashToken(token) })
    return token
  }

  async updateConfig(instanceId: number, update: ConfigUpdate) {
    const inst = this.mustInstance(instanceId)
    await this.write(inst.accountId, 'updateConfig', { instanceId, update })
    return this.mustInstance(instanceId)
  }

  /** Status patches of one instance, in order (from a socket this node drives). */
  async status(accountId: number, instanceId: number, patches: StatusPatch[]): Promise<void> {
    await this.write(accountId, 'status', { instanceId, patches })
  }

  /**
   * Runs a writer op where the account's writer is, then waits until this node applied it.
   * Retries while the writer changes hands (a dead writer's lease runs out within the TTL).
   */
  async write<O extends keyof WriterOps>(accountId: number, op: O, args: WriterOps[O]): Promise<Written<OpValue<O>>> {
    const deadline = this.d.clock.now() + this.d.leaseTtlMs + 10_000
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await this.writeOnce(accountId, op, args)
        await this.d.follower.waitFor(out.streamSeq, 10_000)
        return out
      } catch (err) {
        if (!(err instanceof NotWriter || err instanceof NodeUnreachable) || this.d.clock.now() > deadline) {
          if (err instanceof NotWriter || err instanceof NodeUnreachable) throw new HubError('unavailable', 'No node can write this account right now; retry')
          throw err
        }
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)))
      }
    }
  }

  private async writeOnce<O extends keyof WriterOps>(accountId: number, op: O, args: WriterOps[O]): Promise<Written<OpValue<O>>> {
    // The common cases cost no engine read: this node writes the account, or it knows who does.
    if (this.d.leases.holds(K.writerLease(accountId))) return this.runLocal(accountId, op, args)
    const known = this.writerNodes.get(accountId)
    if (known !== undefined) {
      try {
        return await this.d.rpc.call<Written<OpValue<O>>>(known, 'write', { accountId, op, args })
      } catch (err) {
        // Moved, gone, or failed: the next try asks the engine.
        this.writerNodes.delete(accountId)
        throw err
      }
    }
    const holder = await this.d.leases.holder(K.writerLease(accountId))
    const me = this.d.nodes.me
    if (holder !== null && holder.node === me.id && holder.inc === me.inc) return this.runLocal(accountId, op, args)
    if (holder === null && this.d.worker) return this.runLocal(accountId, op, args)
    const node = holder?.node ?? (await this.d.nodes.pickWorker('accounts', { reserve: true }))
    if (node === null) throw new HubError('unavailable', 'No worker node is running: the cluster cannot write now')
    if (node === me.id && holder !== null) {
      // This node's previous incarnation holds it: it runs out within the TTL.
      throw new NotWriter(accountId)
    }
    const out = await this.d.rpc.call<Written<OpValue<O>>>(node, 'write', { accountId, op, args })
    this.writerNodes.set(accountId, node)
    return out
  }

  /** The `write` request another node sends: run here as the writer, or say who should. */
  runRemote(req: { accountId: number; op: keyof WriterOps; args: never }): Promise<Written<unknown>> {
    if (!this.d.worker) throw new NotWriter(req.accountId)
    return this.runLocal(req.accountId, req.op, req.args)
  }

  private runLocal<O extends keyof WriterOps>(accountId: number, op: O, args: WriterOps[O]): Promise<Written<OpValue<O>>> {
    return this.d.writers.run(accountId, (txn) => this.ops[op](txn, args as never) as Promise<Written<OpValue<O>>>)
  }

  private readonly ops: { [O in keyof WriterOps]: (txn: WriterTxn, a: WriterOps[O]) => Promise<Written<OpValue<O>>> } = {
    createInstance: async (txn, a) => {
      const draft = txn.hub.draftInstance(a.accountId, a.name, a.config, a.token)
      const id = await this.nextId(K.instanceCounter)
      const streamSeq = await txn.append({ t: 'change', change: txn.hub.prepareAdded({ ...draft.row, id }) })
      return { streamSeq, value: id }
    },
    deleteInstance: async (txn, a) => {
      const p = txn.hub.prepareRemoved(a.instanceId)
      if (p === null) return { streamSeq: this.d.follower.applied, value: null }
      const streamSeq = await txn.append({ t: 'change', change: p })
      await this.d.engine.state.delete(K.lastOwner(a.instanceId)).catch(() => undefined)
      return { streamSeq, value: null }
    },
    rotateInstanceToken: async (txn, a) => {
      if (txn.hub.instance(a.instanceId) === undefined) throw new HubError('notFound', MSG.instanceNotFound)
      return { streamSeq: await txn.append({ t: 'token', instanceId: a.instanceId, tokenHash: a.tokenHash }), value: null }
    },
    updateConfig: async (txn, a) => {
      const current = txn.hub.instance(a.instanceId)
      if (current === undefined) throw new HubError('notFound', MSG.instanceNotFound)
      const next = applyConfigUpdate(current.config, a.update, this.d.freshSecret)
      // Nothing to change (a 410 for a webhook disabled meanwhile): no change, no seq.
      if (next === current.config) return { streamSeq: this.d.follower.applied, value: null }
      return { streamSeq: await txn.append({ t: 'change', change: txn.hub.prepareConfig(a.instanceId, next) }), value: null }
    },
    webhookDeliveries: async (_txn, a) => ({ streamSeq: this.d.follower.applied, value: await this.atDesk().list(a.instanceId, a.filter) }),
    webhookRetry: async (_txn, a) => ({ streamSeq: this.d.follower.applied, value: await this.atDesk().requeue(a.instanceId, a.labels) }),
    status: async (txn, a) => {
      let streamSeq = this.d.follower.applied
      for (const patch of a.patches) {
        const p = txn.hub.prepareStatus(a.instanceId, patch)
        if (p !== null) streamSeq = await txn.append({ t: 'change', change: p })
      }
      return { streamSeq, value: null }
    },
  }

  private atDesk(): DeliveryDesk {
    if (this.desk === null) throw new HubError('unavailable', 'This node does not deliver webhooks yet; retry')
    return this.desk
  }

  private mustInstance(id: number) {
    const inst = this.d.hub.instance(id)
    if (inst === undefined) throw new HubError('notFound', MSG.instanceNotFound)
    return inst
  }

  /** The next id of a cluster-wide counter (compare-and-set). */
  private async nextId(key: string): Promise<number> {
    const { state } = this.d.engine
    for (;;) {
      const e = await state.get(key)
      const current = e !== null && e.operation === 'PUT' ? Number(e.string()) : 0
      try {
        if (e === null) await state.create(key, String(current + 1))
        else await state.update(key, String(current + 1), e.revision)
        return current + 1
      } catch (err) {
        if (!isWrongSequence(err)) throw err
      }
    }
  }
}

type OpValue<O extends keyof WriterOps> = O extends 'createInstance' ? number : O extends 'webhookDeliveries' ? Delivery[] : O extends 'webhookRetry' ? number : null
