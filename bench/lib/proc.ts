/**
 * @module The bench's child processes. Each runs a TypeScript entry under tsx, pinned to one core
 * when `taskset` exists (the hub and the references on core 0, load generators on core 1), and
 * answers requests over Node's IPC channel: `{id, cmd, ...args}` → `{id, ok, ...result}`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { monoMs } from './clock.js'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** taskset exists and there are at least two cores to split between server and load (BENCH_NO_PIN=1 turns it off). */
export const PINNED =
  process.env.BENCH_NO_PIN !== '1' && availableParallelism() >= 2 && spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0

export const SERVER_CORE = 0
export const LOAD_CORE = 1

/** The command prefix that pins a process to `core` (empty when pinning is unavailable). */
export function pinPrefix(core: number): string[] {
  return PINNED ? ['taskset', '-c', String(core)] : []
}

export interface WorkerOptions {
  core: number
  env?: Record<string, string>
  nodeArgs?: string[]
  /** Open-file limit to ask for (10,000 sockets need more than the usual 1,024). */
  nofile?: number
  readyTimeoutMs?: number
}

export interface Worker {
  pid: number
  /** The child's `ready` message (port, tokens, timings). */
  ready: Record<string, any>
  /** Wall time from spawn to `ready`, in ms. */
  spawnToReadyMs: number
  spawnedAt: number
  request<T = any>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>
  /** Sends `exit` and waits for the process to end; kills it (by pid) if it does not. */
  stop(): Promise<void>
}

/**
 * Where the hub under test comes from: this checkout, or `BENCH_HUB_ROOT` (another checkout of the
 * project with its own node_modules), so bench/ab.ts can run an old and a new build side by side.
 */
export function hubRoot(entry: string): string {
  return entry === 'bench/hub-process.ts' && process.env.BENCH_HUB_ROOT ? process.env.BENCH_HUB_ROOT : ROOT
}

export async function startWorker(entry: string, opts: WorkerOptions): Promise<Worker> {
  const node = [process.execPath, '--import', 'tsx', ...(opts.nodeArgs ?? []), entry]
  let argv = [...pinPrefix(opts.core), ...node]
  if (opts.nofile !== undefined) argv = ['sh', '-c', `ulimit -n ${opts.nofile} 2>/dev/null; exec "$@"`, 'sh', ...argv]
  const spawnedAt = monoMs()
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    cwd: hubRoot(entry),
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>()
  let nextId = 1
  let exited = false
  const exitedP = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true
      for (const p of pending.values()) {
        clearTimeout(p.timer)
        p.reject(new Error(`${entry} exited (code ${code}, signal ${signal}) before answering`))
      }
      pending.clear()
      resolve()
    }),
  )
  const ready = await new Promise<Record<string, any>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry} not ready after ${opts.readyTimeoutMs ?? 120_000} ms`)), opts.readyTimeoutMs ?? 120_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${entry} exited with code ${code} before it was ready`))
    })
    child.on('message', (m: any) => {
      if (m?.type === 'ready') {
        clearTimeout(timer)
        resolve(m)
      } else if (m?.type === 'error') {
        clearTimeout(timer)
        reject(new Error(`${entry}: ${m.message}`))
      } else if (typeof m?.id === 'number') {
        const p = pending.get(m.id)
        if (p === undefined) return
        pending.delete(m.id)
        clearTimeout(p.timer)
        if (m.ok) p.resolve(m)
        else p.reject(new Error(`${entry} ${m.cmd ?? ''}: ${m.error}`))
      }
    })
  })
  const spawnToReadyMs = monoMs() - spawnedAt
  const worker: Worker = {
    pid: child.pid!,
    ready,
    spawnToReadyMs,
    spawnedAt,
    request(cmd, args = {}, timeoutMs = 300_000) {
      if (exited) return Promise.reject(new Error(`${entry} has exited`))
      const id = nextId++
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id)
          reject(new Error(`${entry} ${cmd}: no answer after ${timeoutMs} ms`))
        }, timeoutMs)
        pending.set(id, { resolve, reject, timer })
        child.send({ ...args, id, cmd })
      })
    },
    async stop() {
      if (exited) return
      await worker.request('exit', {}, 30_000).catch(() => {})
      const killer = setTimeout(() => {
        if (!exited) process.kill(child.pid!, 'SIGKILL')
      }, 10_000)
      await exitedP
      clearTimeout(killer)
    },
  }
  return worker
}

type Handler = (msg: Record<string, any>) => unknown

/**
 * The child side: answers requests with the handler named by `cmd`. `exit` runs the handler
 * (cleanup), answers, then ends the process. A lost parent ends the child too.
 */
export function serveRequests(handlers: Record<string, Handler>): void {
  process.on('message', async (msg: Record<string, any>) => {
    const handler = handlers[msg.cmd]
    try {
      if (handler === undefined) throw new Error(`unknown command ${msg.cmd}`)
      const result = (await handler(msg)) ?? {}
      process.send!({ ...(result as object), id: msg.id, cmd: msg.cmd, ok: true }, undefined, {}, () => {
        if (msg.cmd === 'exit') process.exit(0)
      })
    } catch (err) {
      process.send!({ id: msg.id, cmd: msg.cmd, ok: false, error: (err as Error).stack ?? String(err) })
    }
  })
  process.on('disconnect', () => process.exit(0))
}

export function sendReady(info: Record<string, unknown>): void {
  process.send!({ ...info, type: 'ready' })
}

export function sendFatal(err: unknown): void {
  if (process.send) process.send({ type: 'error', message: (err as Error).stack ?? String(err) })
  else console.error(err)
  process.exitCode = 1
}

/** The soft open-file limit of this process (from /proc/self/limits), or NaN when unknown. */
export function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'))
    return Number(line?.split(/\s{2,}/)[1])
  } catch {
    return NaN
  }
}
