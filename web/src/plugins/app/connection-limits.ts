import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

export interface ConnectionLimits {
  /** Requests of one connection handled at once; later pipelined ones wait and the socket is not read. */
  maxInFlightPerConnection: number
  /** Longest time to receive one whole request, headers and body. */
  requestTimeoutMs: number
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void

interface ConnectionState {
  inFlight: Set<IncomingMessage>
  waiting: Array<[IncomingMessage, ServerResponse]>
}

const states = new WeakMap<Socket, ConnectionState>()
const servers = new WeakMap<http.Server, Set<Socket>>()

/**
 * An HTTP server that never works on more than a few requests of one connection at a time.
 * Node dispatches every pipelined request it has parsed at once; a client that writes thousands
 * and never reads would otherwise have all of them waiting on PostgreSQL and Redis together.
 * Here the extra ones wait, unparsed further, while the socket is paused: TCP then pushes back.
 */
export function limitedServer(limits: ConnectionLimits): (handler: Handler) => http.Server {
  return (handler) => {
    const sockets = new Set<Socket>()
    const dispatch = (state: ConnectionState, req: IncomingMessage, res: ServerResponse): void => {
      state.inFlight.add(req)
      let done = false
      const finished = (): void => {
        if (done) return
        done = true
        state.inFlight.delete(req)
        const next = state.waiting.shift()
        if (next !== undefined) dispatch(state, ...next)
        if (state.waiting.length === 0 && !req.socket.destroyed) req.socket.resume()
      }
      res.once('finish', finished)
      res.once('close', finished)
      handler(req, res)
    }
    const server = http.createServer(
      {
        requestTimeout: limits.requestTimeoutMs,
        headersTimeout: Math.min(limits.requestTimeoutMs, 10_000),
        // How often Node looks for requests past their deadline (its default is 30 s).
        connectionsCheckingInterval: Math.min(1000, limits.requestTimeoutMs)
      },
      (req, res) => {
        let state = states.get(req.socket)
        if (state === undefined) {
          const socket = req.socket
          const connection: ConnectionState = { inFlight: new Set(), waiting: [] }
          // Node resumes the socket itself (e.g. when it discards an answered request's body):
          // while requests wait, it stays paused.
          socket.on('resume', () => {
            if (connection.waiting.length > 0) socket.pause()
          })
          states.set(socket, connection)
          state = connection
        }
        if (state.inFlight.size < limits.maxInFlightPerConnection) return dispatch(state, req, res)
        state.waiting.push([req, res])
        req.socket.pause()
      }
    )
    server.on('connection', (socket: Socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
    })
    servers.set(server, sockets)
    return server
  }
}

/**
 * For shutdown: closes every connection that is not waiting for an answer from us, i.e. idle
 * ones, ones still sending their headers and ones still sending a body (a slow upload would
 * otherwise hold the process past its deadline). Connections with a request being worked on stay.
 */
export function closeConnectionsNotBeingAnswered(server: http.Server): number {
  let closed = 0
  for (const socket of servers.get(server) ?? []) {
    const state = states.get(socket)
    const working = state !== undefined && [...state.inFlight].some((req) => req.complete)
    if (!working) {
      socket.destroy()
      closed++
    }
  }
  return closed
}
