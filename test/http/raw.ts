/**
 * Raw HTTP/1.x over a TCP socket, for what fetch cannot show: the exact bytes on the wire
 * (a HEAD answer without a body), pipelining, HTTP/1.0.
 */
import net from 'node:net'

export interface RawExchange {
  /** Everything the server sent, as latin1 text. */
  text: string
  /** How the exchange ended: the server closed the connection, or the test's timeout passed. */
  ended: 'closed' | 'timeout'
}

/** Sends `request` (already CRLF-terminated) and collects the answer until the server closes, or `ms` passes. */
export function exchange(port: number, request: string, ms = 20_000): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request))
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ text: Buffer.concat(chunks).toString('latin1'), ended: 'timeout' })
    }, ms)
    socket.on('data', (d) => chunks.push(d))
    socket.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({ text: Buffer.concat(chunks).toString('latin1'), ended: 'closed' })
    })
  })
}

/**
 * Splits `HTTP/1.1 …` answers apart, reading each body by its Content-Length, except answers to
 * the requests `methods` names HEAD and 204/304 answers, which have none (RFC 9112 §6.3).
 */
export function responses(text: string, methods: string[]): { status: number; headers: Record<string, string>; body: string }[] {
  const out: { status: number; headers: Record<string, string>; body: string }[] = []
  let rest = text
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n')
    if (end < 0) throw new Error(`truncated head: ${JSON.stringify(rest.slice(0, 200))}`)
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n')
    const headers: Record<string, string> = {}
    for (const l of lines) {
      const i = l.indexOf(':')
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim()
    }
    const status = Number(statusLine!.split(' ')[1])
    const bodyless = methods[out.length] === 'HEAD' || status === 204 || status === 304
    const length = bodyless ? 0 : Number(headers['content-length'] ?? 0)
    out.push({ status, headers, body: rest.slice(end + 4, end + 4 + length) })
    rest = rest.slice(end + 4 + length)
  }
  if (rest !== '') throw new Error(`bytes after the last answer: ${JSON.stringify(rest.slice(0, 200))}`)
  return out
}
