'use strict'
// Fault injection for the local engine: a proxy on a unix socket in front of the real Docker
// Engine. Clients point `local.dockerHost` at `proxy.host`; requests pass through until a fault
// is armed, then the next matching request gets it:
//
//   proxy.fault('stall', { match })    accept the request and never answer (the connection stays open)
//   proxy.fault('drop', { match })     close the connection without answering
//   proxy.fault('garbage', { match })  answer with bytes that are not HTTP
//   proxy.fault('badjson', { match })  answer 200 with a body that is not the JSON the API defines
//   proxy.fault('nobuildkit', { match }) answer 400 as an engine without BuildKit answers a
//                                      `version=2` build (the request body is read and dropped)
//   proxy.refuse()                     stop listening: new connections are refused
//   proxy.clear()                      everything passes again (stalled connections are closed)
//
// `match` is a RegExp tested against the request line (`GET /v1.41/containers/x/json HTTP/1.1`);
// default: every request. A fault stays armed until `clear()` (`count` limits it). Requests are
// recognised at the start of each chunk a client sends while its previous request has been
// answered, which is how the engine's clients (bollard/hyper) use a connection.

const net = require('node:net')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const REQUEST_LINE = /^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS) (\S+) HTTP\/1\.[01]\r?\n/

class FaultyEngine {
  constructor(upstream = '/var/run/docker.sock') {
    this.upstream = upstream
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dn-faulty-engine-'))
    this.socketPath = path.join(this.dir, 'docker.sock')
    this.host = `unix://${this.socketPath}`
    this.faults = []
    this.connections = new Set()
    /** Request lines seen, in order (for assertions about what a client sent). */
    this.requests = []
    /** How many requests each fault kind answered. */
    this.fired = { stall: 0, drop: 0, garbage: 0, badjson: 0, nobuildkit: 0 }
    this.server = null
  }

  async start() {
    this.server = net.createServer((client) => this.#accept(client))
    await new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.socketPath, resolve)
    })
    return this
  }

  fault(kind, { match = /./, count = Infinity } = {}) {
    if (!(kind in this.fired)) throw new Error(`unknown fault ${kind}`)
    this.faults.push({ kind, match, count })
    return this
  }

  clear() {
    this.faults = []
    for (const c of this.connections) if (c.stalled) c.client.destroy()
  }

  async refuse() {
    await this.#closeServer()
    // A path nothing listens on: connect() fails with ECONNREFUSED (or ENOENT once removed).
    fs.rmSync(this.socketPath, { force: true })
    fs.writeFileSync(this.socketPath, '')
  }

  async stop() {
    await this.#closeServer()
    for (const c of this.connections) {
      c.client.destroy()
      c.upstream?.destroy()
    }
    fs.rmSync(this.dir, { recursive: true, force: true })
  }

  async #closeServer() {
    if (!this.server) return
    const s = this.server
    this.server = null
    await new Promise((resolve) => s.close(() => resolve()))
  }

  #take(requestLine) {
    const f = this.faults.find((f) => f.count > 0 && f.match.test(requestLine))
    if (!f) return null
    f.count -= 1
    this.fired[f.kind] += 1
    return f.kind
  }

  #accept(client) {
    const conn = { client, upstream: null, stalled: false }
    this.connections.add(conn)
    client.on('close', () => {
      this.connections.delete(conn)
      conn.upstream?.destroy()
    })
    client.on('error', () => {})
    client.on('data', (chunk) => {
      if (conn.stalled) return
      const m = REQUEST_LINE.exec(chunk.toString('latin1', 0, Math.min(chunk.length, 4096)))
      if (m) {
        const line = m[0].trim()
        this.requests.push(line)
        const kind = this.#take(line)
        if (kind === 'stall') {
          conn.stalled = true
          return
        }
        if (kind === 'drop') {
          client.destroy()
          return
        }
        if (kind === 'garbage') {
          client.end('\x00\x01 this is not HTTP \xff\xfe\r\n\r\n')
          return
        }
        if (kind === 'nobuildkit') {
          const body = '{"message":"buildkit not supported by daemon"}'
          client.write(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`)
          conn.stalled = true // the rest of this connection (the tar) is read and dropped
          setTimeout(() => client.destroy(), 200)
          return
        }
        if (kind === 'badjson') {
          const body = '{"Id": [unterminated'
          client.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
          return
        }
      }
      if (!conn.upstream) {
        conn.upstream = net.connect(this.upstream)
        conn.upstream.on('error', () => client.destroy())
        conn.upstream.on('close', () => client.destroy())
        conn.upstream.pipe(client)
      }
      conn.upstream.write(chunk)
    })
  }
}

module.exports = { FaultyEngine }
