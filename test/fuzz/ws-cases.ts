/**
 * WebSocket client frames, generated with fast-check: bad JSON, JSON that is not an object, every
 * frame type with wrong shapes (ids, instance lists, resume positions, modes, unknown fields),
 * deep nesting, near-limit sizes, and a share of valid frames so subscriptions really happen.
 * None can change data: the stream only reads.
 */
import fc from 'fast-check'

function isJson(s: string): boolean {
  try {
    JSON.parse(s)
    return true
  } catch {
    return false
  }
}

const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined })
const junk = fc.oneof(fc.string({ maxLength: 100 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 5 }), fc.object({ maxDepth: 2 }))

const instances = fc.oneof(
  fc.constant('*'),
  fc.array(fc.oneof(fc.constantFrom('sales', 'support', 'nope', 'ops.team', ''), fc.string({ maxLength: 170 })), { maxLength: 30 }),
  fc.constant([]),
  fc.constant(Array.from({ length: 1001 }, (_, i) => `i${i}`)),
  junk,
)

const since = fc.oneof(
  fc.record({ epoch: fc.oneof(fc.string({ maxLength: 80 }), fc.constant('')), seq: fc.oneof(fc.integer({ min: -5, max: 2_000_000 }), fc.constant(Number.MAX_SAFE_INTEGER)) }),
  fc.record({ epoch: junk, seq: junk }, { requiredKeys: [] }),
  junk,
)

const shaped = fc
  .record(
    {
      type: fc.oneof(fc.constantFrom('subscribe', 'unsubscribe', 'ping', 'snapshot', 'diff', 'error', 'pong', 'SUBSCRIBE', ''), fc.string({ maxLength: 30 }), junk),
      id: fc.oneof(fc.string({ maxLength: 100 }), fc.integer(), fc.double(), junk),
      instances,
      since,
      mode: fc.oneof(fc.constantFrom('ordered', 'latest', 'fast', ''), junk),
      extra: junk,
    },
    { requiredKeys: ['type'] },
  )
  .map((o) => JSON.stringify(o))

const valid = fc.oneof(
  fc.constant('{"type":"ping","id":"p"}'),
  fc.constant('{"type":"ping"}'),
  fc.constant('{"type":"subscribe","id":"s","instances":"*"}'),
  fc.constant('{"type":"subscribe","id":"l","instances":"*","mode":"latest"}'),
  fc.constant('{"type":"subscribe","id":"n","instances":["sales","nope"]}'),
  fc.constant('{"type":"unsubscribe","id":"u","instances":"*"}'),
  fc.constant('{"type":"unsubscribe","id":"u2","instances":["support"]}'),
  fc.record({ epoch: fc.string({ minLength: 1, maxLength: 64 }), seq: fc.nat(1_000_000) }).map((s) => JSON.stringify({ type: 'subscribe', id: 'r', instances: '*', since: s })),
)

export const wsFrames: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: fc.string({ maxLength: 300 }).filter((s) => !isJson(s)) },
  { weight: 4, arbitrary: fc.constantFrom('{', '{"type":', '[', '"', 'nul', '{"type":"subscribe",}', "{'type':'ping'}", '{"type":"ping"}{"type":"ping"}', '\u0000', '') },
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }).filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)).map((v) => JSON.stringify(v)) },
  { weight: 40, arbitrary: shaped },
  { weight: 2, arbitrary: fc.integer({ min: 100, max: 2500 }).map((n) => `{"type":"ping","id":${'['.repeat(n)}${']'.repeat(n)}}`) },
  { weight: 2, arbitrary: fc.integer({ min: 10_000, max: 16_000 }).map((n) => JSON.stringify({ type: 'ping', id: 'big', pad: 'x'.repeat(n) })) },
  { weight: 12, arbitrary: valid },
)

/** What the hub may send: the frame types of the stream contract. */
export function frameProblem(text: string): string | null {
  let f: any
  try {
    f = JSON.parse(text)
  } catch {
    return `not JSON: ${text.slice(0, 200)}`
  }
  const keys = (allowed: string[]) => Object.keys(f).every((k) => allowed.includes(k))
  switch (f?.type) {
    case 'error':
      return typeof f.message === 'string' && keys(['type', 'id', 'message']) ? null : `bad error frame ${text.slice(0, 200)}`
    case 'pong':
      return keys(['type', 'id']) ? null : `bad pong ${text.slice(0, 200)}`
    case 'unsubscribed':
      return keys(['type', 'id']) ? null : `bad unsubscribed ${text.slice(0, 200)}`
    case 'snapshot':
      return typeof f.epoch === 'string' && Number.isInteger(f.seq) && f.recovered === false && Array.isArray(f.instances) ? null : `bad snapshot ${text.slice(0, 200)}`
    case 'resumed':
      return typeof f.epoch === 'string' && Number.isInteger(f.seq) && f.recovered === true ? null : `bad resumed ${text.slice(0, 200)}`
    case 'diff':
    case 'added':
    case 'removed':
      return Number.isInteger(f.seq) && typeof f.epoch === 'string' ? null : `bad change frame ${text.slice(0, 200)}`
    default:
      return `unknown frame type: ${text.slice(0, 200)}`
  }
}
