'use strict'
// Differential test: random builder programs run through the official @daytonaio/sdk Image and
// ours must give byte-identical Dockerfiles and identical errors (class and message), and the
// same contextList wherever the program avoids the documented deviations (reference §8 items
// 7-10, tagged by the generator).
//
// Deterministic: DIFF_SEED=<n> selects another run, DIFF_PROGRAMS=<n> changes the count,
// DIFF_ONLY=<index> runs one program, DIFF_SHOW=<n> prints more failures. The seed is printed
// with every failure.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const util = require('node:util')

const Official = require('@daytonaio/sdk')
const Ours = require('../index.js')
const { makeRng } = require('./helpers/rng.js')
const { createTree } = require('./helpers/tree.js')
const { generateProgram } = require('./helpers/programs.js')
const { runProgram } = require('./helpers/run.js')

const SEED = process.env.DIFF_SEED !== undefined ? Number(process.env.DIFF_SEED) >>> 0 : 0x0da7_0218
const PROGRAMS = Number(process.env.DIFF_PROGRAMS || 2000)
const ONLY = process.env.DIFF_ONLY !== undefined ? Number(process.env.DIFF_ONLY) : null
const MIN_CONTEXT_COMPARED = 0.4

const FORBIDDEN = 'forbidden path outside the build context: '

/**
 * A strict-context step whose COPY sources deviate may be accepted or rejected differently:
 * the two parsers see different sources (e.g. ours expands `$VAR`, globs, ADD sources).
 */
function strictDivergence(program, official, ours) {
  const first = Math.min(official.failedStep ?? Infinity, ours.failedStep ?? Infinity)
  const step = program.steps[first]
  if (!step || !step.deviant || !step.strict) return false
  return [official.error?.message, ours.error?.message].some((m) => m?.startsWith(FORBIDDEN))
}

/** Ours rejecting a source that reaches outside its build context (README deviation 11). */
const ESCAPE = /^COPY source .* (is outside the build context .*: '\.\.' cannot climb|resolves to .*, outside the build context .*, through a symbolic link)/

/**
 * A non-strict step tagged `escapes` (a source reaching outside its context) that ours rejects
 * with the escape error while the official SDK goes on reading the host file.
 */
function escapeRejection(program, official, ours) {
  const k = ours.failedStep
  const step = program.steps[k]
  if (k === undefined || !step?.escapes || step.strict || !ESCAPE.test(ours.error?.message ?? '')) return false
  if (ours.error.name !== 'DaytonaInvalidArgumentError') return false
  return official.ok || official.failedStep > k
}

/** Differences between the two outcomes of one program, as human-readable strings. */
function compare(program, official, ours, stats) {
  const diffs = []
  if (strictDivergence(program, official, ours)) {
    stats.strictDivergences++
    return diffs
  }
  if (escapeRejection(program, official, ours)) {
    stats.escapeRejections++
    return diffs
  }
  const eq = (what, a, b) => {
    if (!util.isDeepStrictEqual(a, b)) diffs.push(`${what}:\n    official: ${util.inspect(a)}\n    ours:     ${util.inspect(b)}`)
  }
  eq('outcome', { ok: official.ok, failedStep: official.failedStep }, { ok: ours.ok, failedStep: ours.failedStep })
  if (ours.chainBroken || official.chainBroken) diffs.push(`a call did not return the same instance (step ${ours.chainBroken})`)
  if (official.error || ours.error) {
    const o = official.error || {}
    const n = ours.error || {}
    eq('error class', [o.name, o.ctor], [n.name, n.ctor])
    const step = program.steps[official.failedStep] || {}
    const prefix = step.tomlPath !== undefined ? `Invalid pyproject.toml file ${step.tomlPath}: ` : null
    if (prefix !== null && o.message?.startsWith(prefix)) {
      // TOML parser messages differ between @iarna/toml and the toml crate: class + prefix only
      if (!n.message?.startsWith(prefix)) eq('error message prefix', o.message, n.message)
    } else {
      eq('error message', o.message, n.message)
    }
    if (ours.error) {
      eq('error is an instance of its package class of that name', o.instanceOfOwnClass, n.instanceOfOwnClass)
      if (n.name?.startsWith('Daytona')) eq('our error instanceof our class of that name', true, n.instanceOfOwnClass)
      eq('our error instanceof our DaytonaError', o.instanceOfBase, n.instanceOfBase)
      eq('error fields', [o.statusCode, o.code, o.source], [n.statusCode, n.code, n.source])
    }
  }
  eq('dockerfile', official.state?.dockerfile, ours.state?.dockerfile)
  if (program.deviationFree) eq('contextList', official.state?.contextList, ours.state?.contextList)
  return diffs
}

test(`differential: ${PROGRAMS} random programs, official SDK vs ours (DIFF_SEED=${SEED})`, (t) => {
  const tree = createTree()
  tree.enter()
  const master = makeRng(SEED)
  const failures = []
  const kinds = new Map()
  let compared = 0
  let contextCompared = 0
  let errors = 0
  const stats = { strictDivergences: 0, escapeRejections: 0 }
  try {
    for (let index = 0; index < PROGRAMS; index++) {
      const programSeed = Math.floor(master.next() * 2 ** 32)
      if (ONLY !== null && index !== ONLY) continue
      const program = generateProgram(makeRng(programSeed), tree.root)
      if (program.dockerfile !== null) {
        // unlink + create: rewriting in place makes ext4 flush on every truncate (auto_da_alloc)
        fs.rmSync(tree.at('ctx', 'Dockerfile'), { force: true })
        fs.writeFileSync(tree.at('ctx', 'Dockerfile'), program.dockerfile)
      }
      const official = runProgram(Official, program.steps)
      const ours = runProgram(Ours, program.steps)
      compared++
      if (!official.ok) errors++
      if (program.deviationFree && official.ok) contextCompared++
      const diffs = compare(program, official, ours, stats)
      if (diffs.length) {
        const kind = `${program.steps[official.failedStep ?? ours.failedStep ?? 0]?.m ?? '?'}/${diffs[0].split(':')[0]}`
        kinds.set(kind, (kinds.get(kind) || 0) + 1)
        failures.push(
          `program #${index} (DIFF_SEED=${SEED} DIFF_ONLY=${index}, deviation-free: ${program.deviationFree})\n` +
            `  steps: ${util.inspect(program.steps, { depth: 6, breakLength: Infinity })}\n` +
            (program.dockerfile !== null ? `  Dockerfile: ${util.inspect(String(program.dockerfile))}\n` : '') +
            `  ${diffs.join('\n  ')}`,
        )
      }
    }
  } finally {
    tree.leave()
  }
  if (failures.length) {
    const summary = [...kinds].map(([k, v]) => `${v} × ${k}`).join(', ')
    const shown = Number(process.env.DIFF_SHOW || 8)
    assert.fail(`${failures.length} of ${compared} programs differ (DIFF_SEED=${SEED}; ${summary}):\n\n${failures.slice(0, shown).join('\n\n')}`)
  }
  if (ONLY === null) {
    assert.ok(compared >= 1000, `only ${compared} programs`)
    const fraction = contextCompared / compared
    assert.ok(
      fraction >= MIN_CONTEXT_COMPARED,
      `contextList compared for ${(fraction * 100).toFixed(1)}% of programs, expected at least ${MIN_CONTEXT_COMPARED * 100}%`,
    )
    // Visible with --test-reporter=spec; useful when tuning the generator.
    t.diagnostic(`programs=${compared} contextList compared=${contextCompared} (${((contextCompared / compared) * 100).toFixed(1)}%) errors=${errors} strict-mode divergences on deviating sources=${stats.strictDivergences} escaping sources rejected=${stats.escapeRejections}`)
  }
})
