/**
 * @module The noisy neighbour's attacker, as its own process on the load core: one account of the
 * hub under test, made through the admin API, that runs every attack of bench/lib/attacks.ts.
 * Commands: `prepare` (port, adminToken, instances), `attack` (ms, guesses), `exit`.
 */
import { prepareAttacker, runAttacks, type Attacker } from './lib/attacks.js'
import { sendFatal, sendReady, serveRequests } from './lib/proc.js'

let attacker: Attacker | null = null

try {
  serveRequests({
    async prepare(msg) {
      attacker = await prepareAttacker(Number(msg.port), String(msg.adminToken), { instances: Number(msg.instances) })
      return { instances: attacker.names.length, listBytes: attacker.listBytes }
    },
    async attack(msg) {
      if (attacker === null) throw new Error('prepare first')
      return { report: await runAttacks(attacker, { ms: Number(msg.ms), guesses: (msg.guesses as string[]) ?? [] }) }
    },
    exit() {},
  })
  sendReady({})
} catch (err) {
  sendFatal(err)
}
