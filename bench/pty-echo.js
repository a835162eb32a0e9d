#!/usr/bin/env node
'use strict'
// Where a PTY round trip's time goes, on the local engine: the median of 15 keystroke echoes
// (one character, echoed by the terminal's line discipline: only the transport) and of 15
// `echo` commands (the shell reads the line, runs it, prints the result and a new prompt), in
// a sandbox of BENCH_IMAGE. Run it once with busybox (ash) and once with an image that has bash.
//
//   node bench/pty-echo.js                                              # daytona-test/busybox:1
//   BENCH_IMAGE=daytona-test/debian-pip:bookworm node bench/pty-echo.js # bash

const path = require('node:path')
const { Daytona } = require(path.resolve(__dirname, '..'))
const IMAGE = process.env.BENCH_IMAGE || 'daytona-test/busybox:1'

async function main() {
  const sandbox = await new Daytona({ backend: 'local' }).create({ image: IMAGE })
  try {
    let seen = ''
    let wake = null
    const pty = await sandbox.process.createPty({
      id: 'bench-echo',
      cols: 80,
      rows: 24,
      onData: (bytes) => {
        seen += Buffer.from(bytes).toString()
        if (wake) wake()
      },
    })
    await new Promise((r) => setTimeout(r, 500))
    const roundTrip = async (input, expect) => {
      seen = ''
      const t0 = performance.now()
      await pty.sendInput(input)
      while (!seen.includes(expect)) await new Promise((r) => (wake = r))
      return performance.now() - t0
    }
    const keys = []
    for (let i = 0; i < 15; i++) keys.push(await roundTrip('q', 'q'))
    await pty.sendInput('\x15') // clear the typed line
    const commands = []
    for (let i = 0; i < 15; i++) commands.push(await roundTrip(`echo Z""${i}Z\n`, `Z${i}Z\r\n`))
    const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1].toFixed(2)
    console.log(`${IMAGE}: keystroke echo ${median(keys)} ms, echo command ${median(commands)} ms (medians of 15)`)
    await pty.kill()
  } finally {
    await sandbox.delete()
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
