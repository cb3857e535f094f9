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
  /** Requests in flight whose method may change state (POST, DELETE...). */
  writes: number
  waiting: Array<[IncomingMessage, ServerResponse]>
  /** We paused the socket for the waiting requests and have not resumed it yet. */
  paused: boolean
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Reads of one connection may run side by side, but a write is a barrier: it starts once the
 * requests before it are answered, and the ones after it start once it is. A client pipelining
 * `POST /cache` then `GET /cache/K` must read what it wrote.
 */
function mayStart(state: ConnectionState, req: IncomingMessage, max: number): boolean {
  if (state.writes > 0 || state.inFlight.size >= max) return false
  return SAFE_METHODS.has(req.method ?? '') || state.inFlight.size === 0
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
    const max = limits.maxInFlightPerConnection
    const dispatch = (state: ConnectionState, req: IncomingMessage, res: ServerResponse): void => {
      const write = !SAFE_METHODS.has(req.method ?? '')
      state.inFlight.add(req)
      if (write) state.writes++
      let done = false
      const finished = (): void => {
        if (done) return
        done = true
        state.inFlight.delete(req)
        if (write) state.writes--
        while (state.waiting.length > 0 && mayStart(state, state.waiting[0]![0], max)) {
          dispatch(state, ...state.waiting.shift()!)
        }
        // Only if we paused it: resuming a socket Node reads by itself costs a tick and an event.
        if (state.paused && state.waiting.length === 0 && !req.socket.destroyed) {
          state.paused = false
          req.socket.resume()
        }
      }
      // 'close' follows 'finish' (a tick later) and also comes when the connection breaks first.
      res.on('close', finished)
      handler(req, res)
    }
    const server = http.createServer(
      {
        requestTimeout: limits.requestTimeoutMs,
        headersTimeout: Math.min(limits.requestTimeoutMs, 10_000),
        // How often Node looks for requests past their deadline (its default is 30 s).
        connectionsCheckingInterval: Math.min(1000, limits.requestTimeoutMs),
        // Node would answer a missing Host, and an Expect it cannot meet, itself: an empty 400 or 417
        // with none of our headers. Both reach the app instead (see plugins/app/http-preconditions.ts).
        requireHostHeader: false
      },
      (req, res) => {
        let state = states.get(req.socket)
        if (state === undefined) {
          const socket = req.socket
          const connection: ConnectionState = { inFlight: new Set(), writes: 0, waiting: [], paused: false }
          // Node resumes the socket itself (e.g. when it discards an answered request's body):
          // while requests wait, it stays paused.
          socket.on('resume', () => {
            if (connection.waiting.length > 0) socket.pause()
          })
          states.set(socket, connection)
          state = connection
        }
        // In arrival order: nothing overtakes a request already waiting.
        if (state.waiting.length === 0 && mayStart(state, req, max)) return dispatch(state, req, res)
        state.waiting.push([req, res])
        state.paused = true
        req.socket.pause()
      }
    )
    server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => server.emit('request', req, res))
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
