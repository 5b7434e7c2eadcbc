/**
 * The layering of src/, checked by `npm test` (test/architecture.test.ts). Data flows one way:
 * sources (WhatsApp) → core (pure) → hub (the single writer) → change bus → edges (HTTP, streams,
 * dashboard). Adapters implement the ports; app/ is the composition root and may import anything.
 * An arrow against the flow fails the suite with the rule's name.
 */
const layer = (name) => `^src/${name}/`
const NPM_IO = '^node_modules/(uWebSockets\\.js|better-sqlite3|drizzle-orm|@whiskeysockets/baileys|pino|qrcode|@nats-io)'

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment: 'core/ holds the domain (status, items, diffs, the WhatsApp state machine): it imports nothing but itself.',
      severity: 'error',
      from: { path: layer('core') },
      to: { pathNot: [layer('core')] },
    },
    {
      name: 'protocol-is-wire-only',
      comment: 'protocol/ holds wire formats: core types and zod, nothing that does I/O.',
      severity: 'error',
      from: { path: layer('protocol') },
      to: { pathNot: [layer('core'), layer('protocol'), '^node_modules/zod'] },
    },
    {
      name: 'ports-are-contracts',
      comment: 'ports/ holds the interfaces adapters implement; they name core types only.',
      severity: 'error',
      from: { path: layer('ports') },
      to: { pathNot: [layer('core'), layer('protocol'), layer('ports'), '^node_modules/prom-client'] },
    },
    {
      name: 'hub-knows-no-edge-or-adapter',
      comment: 'The hub writes through ports and publishes on the bus; it never reaches an edge, an adapter, a source or a transport.',
      severity: 'error',
      from: { path: layer('hub') },
      to: { path: [layer('edges'), layer('adapters'), layer('sources'), layer('app'), layer('stream'), layer('client'), layer('dashboard'), NPM_IO], pathNot: ['^node_modules/pino'] },
    },
    {
      name: 'stream-planning-is-transport-free',
      comment: 'stream/ plans subscriptions for every transport: no uWS, no edge, no adapter.',
      severity: 'error',
      from: { path: layer('stream') },
      to: { path: [layer('edges'), layer('adapters'), layer('sources'), layer('app'), NPM_IO] },
    },
    {
      name: 'sources-write-through-ports',
      comment: 'sources/ (the WhatsApp supervisor) changes statuses through the StatusWriter port, never the hub or an edge directly.',
      severity: 'error',
      from: { path: layer('sources') },
      to: { path: [layer('hub'), layer('edges'), layer('adapters'), layer('app'), layer('stream'), NPM_IO] },
    },
    {
      name: 'edges-read-the-hub-and-the-bus',
      comment: 'edges/ serve the snapshot and the bus; they never drive a source or an adapter.',
      severity: 'error',
      from: { path: layer('edges') },
      to: { path: [layer('sources'), layer('adapters'), layer('app'), '^node_modules/(better-sqlite3|drizzle-orm|@whiskeysockets/baileys)'] },
    },
    {
      name: 'adapters-implement-ports',
      comment: 'adapters/ implement ports over SQLite, Baileys, NATS or memory; they know nothing above the ports.',
      severity: 'error',
      from: { path: layer('adapters') },
      to: { path: [layer('hub'), layer('edges'), layer('sources'), layer('app'), layer('stream')] },
    },
    {
      name: 'adapters-stay-apart',
      comment: 'Each adapter implements its ports on its own. The only links between adapters are the ones the four rules below allow, each on purpose.',
      severity: 'error',
      from: { path: '^src/adapters/([^/]+)/', pathNot: ['^src/adapters/simulated/', '^src/adapters/(sqlite|nats)/session-store\\.ts$', '^src/adapters/nats/sim-world\\.ts$', '^src/adapters/nats/history-store\\.ts$'] },
      to: { path: '^src/adapters/', pathNot: ['^src/adapters/$1/'] },
    },
    {
      name: 'the-simulator-drives-the-baileys-adapter',
      comment:
        "On purpose: simulated/ drives the same Baileys adapter real sockets go through (adaptSocket, the creds helpers, the verified-name answer; and Baileys' own event buffer from the package), so the tests exercise the code a real number runs. It reaches nothing else of another adapter.",
      severity: 'error',
      from: { path: '^src/adapters/simulated/' },
      to: { path: '^src/adapters/', pathNot: ['^src/adapters/simulated/', '^src/adapters/baileys/(socket-adapter|creds|verified-name)\\.ts$'] },
    },
    {
      name: 'session-stores-keep-baileys-creds',
      comment: "The SQLite and NATS session stores keep Baileys' creds, so they share its creds helpers, and nothing else of another adapter.",
      severity: 'error',
      from: { path: '^src/adapters/(sqlite|nats)/session-store\\.ts$' },
      to: { path: '^src/adapters/', pathNot: ['^src/adapters/$1/', '^src/adapters/baileys/creds\\.ts$'] },
    },
    {
      name: 'the-shared-sim-world-is-the-simulated-one',
      comment: "The cluster's simulated WhatsApp world (nats/sim-world.ts) implements simulated/world.ts's contract over the engine.",
      severity: 'error',
      from: { path: '^src/adapters/nats/sim-world\\.ts$' },
      to: { path: '^src/adapters/', pathNot: ['^src/adapters/nats/', '^src/adapters/simulated/world\\.ts$'] },
    },
    {
      name: 'engine-history-keeps-a-memory-copy',
      comment: "The cluster's history store (nats/history-store.ts) serves reads from the in-memory store's working copy and keeps the rows in the engine.",
      severity: 'error',
      from: { path: '^src/adapters/nats/history-store\\.ts$' },
      to: { path: '^src/adapters/', pathNot: ['^src/adapters/nats/', '^src/adapters/memory/history-store\\.ts$'] },
    },
    {
      name: 'cluster-sits-between-hub-and-engine',
      comment: 'cluster/ runs a node\'s part of the cluster (follower, leases, writers, routed commands and sockets) over the hub, the ports and the NATS engine; it never reaches an edge or the composition root.',
      severity: 'error',
      from: { path: layer('cluster') },
      to: { path: [layer('edges'), layer('app'), layer('stream'), layer('client'), layer('dashboard')] },
    },
    {
      name: 'only-the-root-composes-the-cluster',
      comment: 'Nothing but app/ builds cluster pieces: edges see the cluster through ports (ClusterView, Commands).',
      severity: 'error',
      from: { path: '^src/', pathNot: [layer('app'), layer('cluster')] },
      to: { path: layer('cluster') },
    },
    {
      name: 'client-is-standalone',
      comment: 'The client package runs in browsers and plain Node: no server code, no runtime dependency.',
      severity: 'error',
      from: { path: layer('client') },
      to: { path: [layer('hub'), layer('edges'), layer('adapters'), layer('sources'), layer('app'), layer('stream'), layer('ports'), '^node_modules/'] },
    },
    {
      name: 'dashboard-uses-the-client',
      comment: 'The dashboard is browser code over the client.',
      severity: 'error',
      from: { path: layer('dashboard') },
      to: { pathNot: [layer('dashboard'), layer('client'), layer('core'), layer('protocol')] },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Worktrees link node_modules to a shared tree; resolved through the link, npm paths would not match the rules.
    preserveSymlinks: true,
    exclude: { path: '\\.test\\.ts$' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
}
