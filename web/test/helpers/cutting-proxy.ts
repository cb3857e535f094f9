import net from 'node:net'

/**
 * What the proxy does to the next client message that contains its trigger:
 * - `drop`: nothing reaches PostgreSQL; both sides are closed;
 * - `cut-reply`: PostgreSQL gets the message and answers after its commit; the answer is dropped
 *   and both sides are closed, so the client never learns the outcome;
 * - `cut-client`: PostgreSQL gets the message; only the client side is closed, and the server
 *   session stays open, still working on it.
 */
export type Cut = 'drop' | 'cut-reply' | 'cut-client'

/** A TCP proxy in front of PostgreSQL that breaks one connection at a chosen moment of a chosen query. */
export class CuttingProxy {
  private armed: { trigger: string; cut: Cut } | undefined
  /** While true, new connections are closed at once, as if PostgreSQL were down. */
  refuse = false
  /** How many cuts have happened. */
  cuts = 0
  private readonly sockets = new Set<net.Socket>()

  private constructor(
    private readonly server: net.Server,
    readonly port: number
  ) {}

  static async start(upstreamPort: number): Promise<CuttingProxy> {
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const proxy = new CuttingProxy(server, (server.address() as net.AddressInfo).port)
    server.on('connection', (client) => proxy.relay(client, upstreamPort))
    return proxy
  }

  /** Breaks the connection that next sends a message containing `trigger`; once. */
  arm(trigger: string, cut: Cut): void {
    this.armed = { trigger, cut }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise((resolve) => this.server.close(resolve))
  }

  private relay(client: net.Socket, upstreamPort: number): void {
    if (this.refuse) return void client.destroy()
    const server = net.connect(upstreamPort, '127.0.0.1')
    for (const socket of [client, server]) {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
      socket.on('error', () => undefined)
    }
    let dropReplies = false
    let keepServer = false
    client.on('data', (chunk) => {
      const armed = this.armed
      if (armed === undefined || !chunk.includes(armed.trigger)) return void server.write(chunk)
      this.armed = undefined
      this.cuts++
      if (armed.cut === 'drop') {
        client.destroy()
        server.destroy()
        return
      }
      server.write(chunk)
      if (armed.cut === 'cut-client') {
        keepServer = true
        client.destroy()
      } else dropReplies = true
    })
    server.on('data', (chunk) => {
      if (!dropReplies) return void client.write(chunk)
      client.destroy()
      server.destroy()
    })
    // A server session whose client was cut on purpose stays open; any other ends with its client.
    client.on('close', () => keepServer || server.destroy())
    server.on('close', () => client.destroy())
  }
}
