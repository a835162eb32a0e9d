'use strict'
// The fake API as a child process, for tests outside Node (the Rust client's integration tests):
//   node __test__/api-server/cli.js '<options JSON>'
// prints one JSON line {apiUrl, toolboxUrl, apiKey} once listening, then answers commands, one
// per stdin line, with one JSON line each:
//   requests            the normalised request lines (helpers.normaliseRequests, with Accept,
//                       UUIDs numbered)
// Options may name a real agent to forward the process routes to: {"toolboxAgent": {"bin": ...}}.
//   violations          {violations, responseViolations, unimplemented, authFailures}
//   fault <JSON>        adds a fault: {"kind": "cutSocket", "op": ..., ...} (see server.js)
//   run-official        runs ./toolbox-program.js through the official SDK against a fresh
//                       server of the same options: {error, lines}
// and closes the server when stdin ends.

const readline = require('node:readline')
const { startApiServer } = require('./server.js')
const { normaliseRequests } = require('./helpers.js')

async function runOfficial(options) {
  const official = require('@daytonaio/sdk')
  const { program } = require('./toolbox-program.js')
  const other = await startApiServer({ s3: 'none', ...options })
  try {
    const d = new official.Daytona({ apiKey: other.apiKey, apiUrl: other.apiUrl, target: 'us', useDeprecatedPolling: true })
    let error = null
    let value = null
    try {
      value = await program(official, d)
    } catch (e) {
      error = String((e && e.stack) || e)
    }
    return { error, value, lines: normaliseRequests(other, { accept: true, ids: true }) }
  } finally {
    await other.close()
  }
}

async function main() {
  const options = JSON.parse(process.argv[2] || '{}')
  const srv = await startApiServer({ s3: 'none', ...options })
  const reply = (v) => process.stdout.write(`${JSON.stringify(v)}\n`)
  reply({ apiUrl: srv.apiUrl, toolboxUrl: srv.toolboxUrl, apiKey: srv.apiKey })
  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    const [cmd, ...rest] = line.trim().split(' ')
    if (cmd === 'requests') reply(normaliseRequests(srv, { accept: true, ids: true }))
    else if (cmd === 'run-official') reply(await runOfficial(options))
    else if (cmd === 'violations') {
      const { violations, responseViolations, unimplemented, authFailures } = srv.state
      reply({ violations, responseViolations, unimplemented, authFailures })
    } else if (cmd === 'fault') reply({ added: Boolean(srv.faults.add(JSON.parse(rest.join(' ')))) })
    else reply({ error: `unknown command ${cmd}` })
  }
  await srv.close()
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`)
  process.exit(1)
})
