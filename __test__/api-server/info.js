'use strict'
// The fake toolbox's model of the sandbox's own information routes (used when no real agent
// serves the toolbox): GET /work-dir, GET /user-home-dir and POST /env, which updates the
// environment later ExecuteCommand calls of the model see.

/** Handlers keyed by operationId, as ./toolbox.js calls them: (ctx, sandbox, body). */
function infoHandlers(send, home) {
  return {
    GetWorkDir(ctx) {
      return send(ctx, 200, { dir: home })
    },
    GetUserHomeDir(ctx) {
      return send(ctx, 200, { dir: home })
    },
    UpdateEnv(ctx, sb, body) {
      const r = body.json || {}
      sb.env = { ...sb.env }
      for (const k of r.unset || []) delete sb.env[k]
      Object.assign(sb.env, r.set || {})
      return send(ctx, 200, { ...(r.set || {}) })
    },
  }
}

module.exports = { infoHandlers }
