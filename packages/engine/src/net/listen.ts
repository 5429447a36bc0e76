/** Listening on ports, with failures told in one sentence. */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Listens on a port, turning EADDRINUSE into one sentence. */
export function listen(server: Server, port: number, host: string, what: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening)
      if (err.code === 'EADDRINUSE') reject(new Error(`port ${port} (${what}) is already in use on ${host}`))
      else if (err.code === 'EACCES') reject(new Error(`port ${port} (${what}) on ${host} needs more privileges`))
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND')
        reject(new Error(`host ${host} (${what}) is not an address of this machine`))
      else reject(err)
    }
    const onListening = () => {
      server.off('error', onError)
      resolve(server.address() as AddressInfo)
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}

export function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

/**
 * The node HTTP server options that close a socket which has not sent its complete request
 * headers (or WebSocket upgrade) within `ms` (R19). Node closes such sockets at its next
 * connection check, so the check runs every tenth of `ms` (at most every second) and the
 * header timeout is shortened by one and a half intervals: a slow socket is closed after
 * between `ms - 1.5 intervals` and `ms - 0.5 interval` (8.5 to 9.5 s for the default 10 s),
 * so a late timer still closes it within `ms`.
 */
export function slowClientTimeouts(ms: number): { headersTimeout: number; connectionsCheckingInterval: number } {
  const interval = Math.min(1000, Math.max(20, Math.floor(ms / 10)))
  return { headersTimeout: Math.max(1, ms - Math.ceil(1.5 * interval)), connectionsCheckingInterval: interval }
}
