'use strict'
// Runs a builder program (see programs.js) against one SDK and records what a caller can
// observe: the Dockerfile, the context list, whether every call returned the same instance, and
// the thrown error (with the state the image was left in).

function describeError(e, pkg) {
  if (!(e instanceof Error)) return { nonError: String(e) }
  const d = {
    name: e.name,
    ctor: e.constructor && e.constructor.name,
    message: e.message,
    statusCode: e.statusCode,
    code: e.code,
    source: e.source,
  }
  // instanceof the package's class of that name (and of its base class)
  d.instanceOfOwnClass = typeof pkg[e.name] === 'function' && e instanceof pkg[e.name]
  d.instanceOfBase = e instanceof pkg.DaytonaError
  return d
}

function snapshot(img) {
  if (!img) return null
  return { dockerfile: img.dockerfile, contextList: img.contextList.map((c) => ({ ...c })) }
}

/** Runs `steps` on `pkg.Image`; never throws. */
function runProgram(pkg, steps) {
  let img = null
  let i = 0
  try {
    const [factory, ...calls] = steps
    img = pkg.Image[factory.m](...factory.args)
    for (i = 1; i <= calls.length; i++) {
      const step = calls[i - 1]
      const ret = img[step.m](...step.args)
      if (ret !== img) return { ok: false, chainBroken: i, state: snapshot(img) }
    }
    return { ok: true, state: snapshot(img) }
  } catch (e) {
    return { ok: false, failedStep: i, error: describeError(e, pkg), state: snapshot(img) }
  }
}

module.exports = { runProgram, describeError }
