#!/usr/bin/env node
'use strict'
// `npx daytona-native serve [--port N] [--host H --allow-remote] [--api-key K]`: the Daytona API
// on this machine, over the local Docker engine, for the official SDKs.

const USAGE = `Usage: daytona-native serve [--port N] [--host H --allow-remote] [--api-key K]

  --port N          port to listen on (default 3986; 0: any free port)
  --host H          address to listen on (default 127.0.0.1)
  --allow-remote    needed for a host other than a loopback address
  --api-key K       the key clients must send (default: DAYTONA_NATIVE_SERVE_API_KEY, else generated)
`

function fail(message) {
  process.stderr.write(`daytona-native: ${message}\n\n${USAGE}`)
  process.exit(2)
}

function parse(argv) {
  const o = { port: 3986, allowRemote: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined]
    const value = () => {
      if (inline !== undefined) return inline
      if (i + 1 >= argv.length) fail(`${flag} needs a value`)
      return argv[++i]
    }
    if (flag === '--port') {
      const v = value()
      if (!/^\d+$/.test(v) || Number(v) > 65535) fail(`--port must be a number from 0 to 65535 (got ${v})`)
      o.port = Number(v)
    } else if (flag === '--host') o.host = value()
    else if (flag === '--api-key') o.apiKey = value()
    else if (flag === '--allow-remote') o.allowRemote = true
    else if (flag === '--help' || flag === '-h') {
      process.stdout.write(USAGE)
      process.exit(0)
    } else fail(`unknown option ${a}`)
  }
  if (o.apiKey === undefined && process.env.DAYTONA_NATIVE_SERVE_API_KEY) o.apiKey = process.env.DAYTONA_NATIVE_SERVE_API_KEY
  return o
}

async function main() {
  const [command, ...rest] = process.argv.slice(2)
  if (command === '--help' || command === '-h' || command === undefined) {
    process.stdout.write(USAGE)
    process.exit(command === undefined ? 2 : 0)
  }
  if (command !== 'serve') fail(`unknown command ${command}`)
  const options = parse(rest)
  const { serve } = require('..')
  let server
  try {
    server = await serve(options)
  } catch (e) {
    process.stderr.write(`daytona-native: ${e && e.message ? e.message : e}\n`)
    process.exit(1)
  }
  process.stdout.write(`Daytona API: ${server.url}\nAPI key: ${server.apiKey}\n\nexport DAYTONA_API_URL=${server.url}\nexport DAYTONA_API_KEY=${server.apiKey}\n`)
  const stop = () => {
    server.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main()
