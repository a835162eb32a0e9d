'use strict'
// The REST API routes of the fake API (see the header of ./server.js): sandbox and snapshot
// operations, their DTOs and state machines (timers of config.timings), builds (which write a
// BuildLog), push-access and the build-logs URLs.

const { merge, nowIso, idFor, sha256 } = require('./util.js')
const { BuildLog } = require('./build-logs.js')

/** The API routes of one server; `S` is the server's shared context (see server.js). */
function createApiRoutes(S) {
  const { config, state, validators, organizationId, apiUrl, toolboxUrl, foreignOrigin, logsToken, s3, schedule, parseBody, violation, gate, send, errorBody } = S
  // Defined by ./build-logs.js, which is created after these routes (it needs findSnapshot).
  const serveLogs = (...args) => S.serveLogs(...args)

  async function routeApi(ctx) {
    const { rec } = ctx
    rec.kind = 'api'
    const sub = ctx.url.pathname.slice('/api'.length) || '/'
    const validator = validators.api
    const m = validator.match(ctx.req.method, sub)
    const body = parseBody(ctx)
    if (!m) {
      violation(ctx, [`no operation in the spec for ${ctx.req.method} ${sub}`])
      return send(ctx, 404, errorBody(404, `Cannot ${ctx.req.method} ${ctx.url.pathname}`))
    }
    if (!m.op) {
      violation(ctx, [`method ${ctx.req.method} not defined for ${m.template} (allowed: ${m.allowed.join(', ')})`])
      return send(ctx, 405, errorBody(405, `Method ${ctx.req.method} not allowed`))
    }
    rec.op = m.operationId
    rec.template = m.template
    ctx.match = m
    ctx.validator = validator
    if (!(await gate(ctx, validator, m, body))) return
    const handler = apiHandlers[m.operationId]
    if (!handler) {
      state.unimplemented.push({ seq: rec.seq, op: rec.op })
      return send(ctx, 501, errorBody(501, `not implemented by the test server: ${m.operationId}`))
    }
    return handler(ctx, m.pathParams, body.json)
  }

  function findSandbox(idOrName) {
    const s = state.sandboxes.get(idOrName)
    if (s && !s.gone) return s
    for (const sb of state.sandboxes.values()) if (!sb.gone && sb.name === idOrName) return sb
    return null
  }
  function sandboxNotFound(ctx, idOrName) {
    return send(ctx, 404, errorBody(404, `Sandbox with ID or name ${idOrName} not found`))
  }
  function findSnapshot(idOrName, byIdOnly = false) {
    const s = state.snapshots.get(idOrName)
    if (s) return s
    if (byIdOnly) return null
    for (const sn of state.snapshots.values()) if (sn.name === idOrName) return sn
    return null
  }
  function snapshotNotFound(ctx, idOrName) {
    return send(ctx, 404, errorBody(404, `Snapshot ${idOrName} not found`))
  }

  function setState(sb, st, errorReason) {
    sb.state = st
    sb.updatedAt = nowIso()
    if (errorReason !== undefined) sb.errorReason = errorReason
    sb.history.push(st)
  }

  function sandboxDto(sb, listItem = false) {
    const dto = {
      id: sb.id,
      organizationId,
      name: sb.name,
      snapshot: sb.snapshot,
      user: sb.user,
      env: sb.env,
      labels: sb.labels,
      public: sb.public,
      networkBlockAll: sb.networkBlockAll,
      target: sb.target,
      cpu: sb.cpu,
      gpu: sb.gpu,
      memory: sb.memory,
      disk: sb.disk,
      state: sb.state,
      desiredState: sb.desiredState,
      backupState: 'None',
      autoStopInterval: sb.autoStopInterval,
      autoArchiveInterval: sb.autoArchiveInterval,
      autoDeleteInterval: sb.autoDeleteInterval,
      volumes: sb.volumes,
      createdAt: sb.createdAt,
      updatedAt: sb.updatedAt,
      sandboxClass: 'container',
      recoverable: false,
      toolboxProxyUrl: toolboxUrl,
    }
    if (sb.snapshot === undefined) delete dto.snapshot
    if (sb.errorReason) dto.errorReason = sb.errorReason
    if (sb.networkAllowList !== undefined) dto.networkAllowList = sb.networkAllowList
    if (sb.autoPauseInterval !== undefined) dto.autoPauseInterval = sb.autoPauseInterval
    if (sb.lastActivityAt !== undefined) dto.lastActivityAt = sb.lastActivityAt
    if (sb.buildInfo) {
      dto.buildInfo = {
        dockerfileContent: sb.buildInfo.dockerfileContent,
        contextHashes: sb.buildInfo.contextHashes || [],
        createdAt: sb.createdAt,
        updatedAt: sb.createdAt,
        snapshotRef: `daytona-${sha256(sb.buildInfo.dockerfileContent).slice(0, 32)}:daytona`,
      }
    }
    if (listItem) {
      delete dto.env
      delete dto.volumes
      delete dto.buildInfo
    }
    return dto
  }

  /** POST /sandbox/{id}/{autostop|autoarchive|autodelete}/{interval}: minutes, an integer. */
  function setInterval_(ctx, p, field) {
    const sb = findSandbox(p.sandboxIdOrName)
    if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
    const minutes = Number(p.interval)
    if (!Number.isInteger(minutes)) return send(ctx, 400, errorBody(400, `interval must be an integer (got ${p.interval})`))
    sb[field] = minutes
    sb.updatedAt = nowIso()
    return send(ctx, 200, sandboxDto(sb))
  }

  function startBuild(sb) {
    const b = merge(config.build, {})
    const t = config.timings
    sb.log = new BuildLog()
    setState(sb, 'pending_build')
    schedule(t.pendingBuildMs, () => {
      if (sb.deleted) return
      setState(sb, 'building_snapshot')
      emitLines(sb, b, () => {
        if (sb.deleted) return
        if (b.outcome === 'build_failed' || b.outcome === 'error') {
          setState(sb, b.outcome, b.errorReason)
          sb.log.finish()
        } else {
          sb.log.finish()
          becomeStarted(sb)
        }
      })
    })
  }

  /** Appends b.lines one per interval, then calls done (never, for outcome 'hang'). */
  function emitLines(obj, b, done) {
    const lines = b.lines || []
    let i = 0
    const next = () => {
      if (obj.deleted || state.closed) return
      if (i < lines.length) {
        obj.log.append(lines[i++])
        return schedule(b.lineIntervalMs, next)
      }
      if (b.outcome === 'hang') {
        obj.log.append(`still building (${i++ - lines.length + 1})`)
        return schedule(b.lineIntervalMs, next)
      }
      done()
    }
    next()
  }

  function becomeStarted(sb) {
    const s = config.sandbox
    const finish = () => {
      if (sb.deleted) return
      if (s.startOutcome === 'error') setState(sb, 'error', s.errorReason)
      else setState(sb, 'started', '')
    }
    if (config.timings.startingMs > 0) {
      setState(sb, 'starting')
      schedule(config.timings.startingMs, finish)
    } else finish()
  }

  const apiHandlers = {
    getPushAccess(ctx) {
      if (!s3) {
        return send(ctx, 200, {
          accessKey: 'AKIATESTTESTTESTTEST',
          secret: 'not-a-secret',
          sessionToken: 'not-a-token',
          storageUrl: 'http://127.0.0.1:9',
          organizationId,
          bucket: 'daytona-volume-builds',
          region: 'us-east-1',
        })
      }
      return send(ctx, 200, {
        accessKey: s3.accessKey,
        secret: s3.secret,
        sessionToken: s3.sessionToken,
        storageUrl: s3.storageUrl,
        organizationId,
        bucket: s3.bucket,
        region: s3.region,
      })
    },

    createSandbox(ctx, _p, body) {
      const b = body || {}
      if (b.name && findSandbox(b.name)) {
        return send(ctx, 409, errorBody(409, `Sandbox with name ${b.name} already exists`))
      }
      const id = idFor('5a', ++state.counters.sandbox)
      const now = nowIso()
      const sb = {
        id,
        name: b.name || id,
        snapshot: b.buildInfo ? undefined : b.snapshot || config.defaultSnapshot,
        user: b.user || 'daytona',
        env: b.env || {},
        labels: b.labels || {},
        public: Boolean(b.public),
        networkBlockAll: Boolean(b.networkBlockAll),
        networkAllowList: b.networkAllowList,
        target: b.target || config.target,
        cpu: b.cpu ?? 1,
        gpu: b.gpu ?? 0,
        memory: b.memory ?? 1,
        disk: b.disk ?? 3,
        autoStopInterval: b.autoStopInterval ?? 15,
        autoPauseInterval: b.autoPauseInterval,
        autoArchiveInterval: b.autoArchiveInterval ?? 10080,
        autoDeleteInterval: b.autoDeleteInterval ?? -1,
        volumes: b.volumes || [],
        buildInfo: b.buildInfo,
        createdAt: now,
        updatedAt: now,
        desiredState: 'started',
        state: null,
        errorReason: undefined,
        history: [],
        files: new Map(),
        log: null,
        request: b,
      }
      state.sandboxes.set(id, sb)
      if (b.buildInfo) startBuild(sb)
      else {
        setState(sb, 'creating')
        schedule(config.timings.creatingMs, () => !sb.deleted && becomeStarted(sb))
      }
      return send(ctx, 200, sandboxDto(sb))
    },

    getSandbox(ctx, p) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      return send(ctx, 200, sandboxDto(sb))
    },

    listSandboxes(ctx) {
      const q = ctx.query
      const one = (k) => (q.get(k) || [])[0]
      let items = [...state.sandboxes.values()].filter((sb) => !sb.gone && sb.state !== 'destroyed')
      const labels = one('labels')
      if (labels !== undefined) {
        let want
        try {
          want = JSON.parse(labels)
        } catch {
          return send(ctx, 400, errorBody(400, 'labels must be a JSON object'))
        }
        items = items.filter((sb) => Object.entries(want).every(([k, v]) => sb.labels[k] === v))
      }
      const states = q.get('states')
      if (states) items = items.filter((sb) => states.includes(sb.state))
      const idPrefix = one('id')
      if (idPrefix) items = items.filter((sb) => sb.id.toLowerCase().startsWith(idPrefix.toLowerCase()))
      const namePrefix = one('name')
      if (namePrefix) items = items.filter((sb) => sb.name.toLowerCase().startsWith(namePrefix.toLowerCase()))
      const limit = Number(one('limit') || 100)
      const cursor = one('cursor')
      let start = 0
      if (cursor) {
        const m = /^c(\d+)$/.exec(cursor)
        if (!m) return send(ctx, 400, errorBody(400, 'invalid cursor'))
        start = Number(m[1])
      }
      const page = items.slice(start, start + limit)
      const nextCursor = start + limit < items.length ? `c${start + limit}` : null
      return send(ctx, 200, { items: page.map((sb) => sandboxDto(sb, true)), nextCursor })
    },

    startSandbox(ctx, p) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      if (sb.state === 'started' || sb.state === 'starting') return send(ctx, 200, sandboxDto(sb))
      if (sb.state !== 'stopped' && sb.state !== 'error' && sb.state !== 'archived') {
        return send(ctx, 409, errorBody(409, `Sandbox ${sb.id} is ${sb.state} and cannot be started`))
      }
      sb.desiredState = 'started'
      sb.errorReason = undefined
      const s = config.sandbox
      setState(sb, 'starting')
      schedule(config.timings.startingMs, () => {
        if (sb.deleted) return
        if (s.startOutcome === 'error') setState(sb, 'error', s.errorReason)
        else setState(sb, 'started', '')
      })
      return send(ctx, 200, sandboxDto(sb))
    },

    stopSandbox(ctx, p) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      if (sb.state === 'stopped' || sb.state === 'stopping') return send(ctx, 200, sandboxDto(sb))
      if (sb.state !== 'started') {
        return send(ctx, 409, errorBody(409, `Sandbox ${sb.id} is ${sb.state} and cannot be stopped`))
      }
      sb.desiredState = 'stopped'
      sb.lastStopForce = ctx.query.get('force')?.[0]
      setState(sb, 'stopping')
      schedule(config.timings.stoppingMs, () => !sb.deleted && setState(sb, 'stopped'))
      return send(ctx, 200, sandboxDto(sb))
    },

    deleteSandbox(ctx, p) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      sb.deleted = true
      sb.desiredState = 'destroyed'
      if (sb.log && !sb.log.done) sb.log.finish()
      setState(sb, 'destroying')
      const dto = sandboxDto(sb)
      schedule(config.timings.destroyingMs, () => {
        setState(sb, 'destroyed')
        // The sandbox's toolbox goes with it: its WebSockets drop without a close frame.
        for (const s of sb.sockets || []) s.terminate()
        schedule(config.timings.destroyedVisibleMs, () => (sb.gone = true))
      })
      return send(ctx, 200, dto)
    },

    replaceLabels(ctx, p, body) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      sb.labels = { ...(body && body.labels) }
      sb.updatedAt = nowIso()
      return send(ctx, 200, { labels: sb.labels })
    },

    updateLastActivity(ctx, p) {
      const sb = findSandbox(p.sandboxId)
      if (!sb) return sandboxNotFound(ctx, p.sandboxId)
      sb.lastActivityAt = nowIso()
      return send(ctx, 201)
    },

    resizeSandbox(ctx, p, body) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      if (sb.state !== 'started' && sb.state !== 'stopped') {
        return send(ctx, 409, errorBody(409, `Sandbox ${sb.id} is ${sb.state} and cannot be resized`))
      }
      const b = body || {}
      const back = sb.state
      sb.lastResizeOrganization = ctx.req.headers['x-daytona-organization-id']
      setState(sb, 'resizing')
      schedule(config.timings.resizingMs || 0, () => {
        if (sb.deleted) return
        for (const k of ['cpu', 'memory', 'disk']) if (b[k] !== undefined) sb[k] = b[k]
        setState(sb, back)
      })
      return send(ctx, 200, sandboxDto(sb))
    },

    getPortPreviewUrl(ctx, p) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      return send(ctx, 200, { sandboxId: sb.id, url: `https://${p.port}-${sb.id}.preview.test`, token: `tok-${sb.id.slice(-4)}-${p.port}` })
    },

    getSignedPortPreviewUrl(ctx, p) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      const expires = (ctx.query.get('expiresInSeconds') || [])[0]
      const token = `signed-${p.port}-${expires || 60}`
      return send(ctx, 200, { sandboxId: sb.id, port: Number(p.port), token, url: `https://${p.port}-${token}.preview.test` })
    },

    archiveSandbox(ctx, p) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      if (sb.state !== 'stopped') return send(ctx, 400, errorBody(400, `Sandbox ${sb.id} is ${sb.state}: only a stopped sandbox can be archived`))
      sb.desiredState = 'archived'
      setState(sb, 'archiving')
      schedule(config.timings.archivingMs || 0, () => !sb.deleted && setState(sb, 'archived'))
      return send(ctx, 200, sandboxDto(sb))
    },

    recoverSandbox(ctx, p) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      if (sb.state !== 'error' && sb.state !== 'stopped') {
        return send(ctx, 400, errorBody(400, `Sandbox ${sb.id} is ${sb.state} and cannot be recovered`))
      }
      sb.desiredState = 'started'
      sb.errorReason = undefined
      setState(sb, 'starting')
      schedule(config.timings.startingMs, () => !sb.deleted && setState(sb, 'started', ''))
      return send(ctx, 200, sandboxDto(sb))
    },

    forkSandbox(ctx, p, body) {
      const src = findSandbox(p.sandboxIdOrName)
      if (!src) return sandboxNotFound(ctx, p.sandboxIdOrName)
      const b = body || {}
      if (b.name && findSandbox(b.name)) return send(ctx, 409, errorBody(409, `Sandbox with name ${b.name} already exists`))
      const id = idFor('5a', ++state.counters.sandbox)
      const now = nowIso()
      const sb = {
        ...src,
        id,
        name: b.name || id,
        env: { ...src.env },
        labels: { ...src.labels },
        createdAt: now,
        updatedAt: now,
        desiredState: 'started',
        state: null,
        errorReason: undefined,
        history: [],
        files: new Map(src.files),
        log: null,
        request: b,
        forkedFrom: src.id,
      }
      state.sandboxes.set(id, sb)
      setState(sb, 'creating')
      schedule(config.timings.creatingMs, () => !sb.deleted && becomeStarted(sb))
      return send(ctx, 200, sandboxDto(sb))
    },

    createSandboxSnapshot(ctx, p, body) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      const name = body && body.name
      if (!name) return send(ctx, 400, errorBody(400, 'name is required'))
      if (findSnapshot(name)) return send(ctx, 409, errorBody(409, `Snapshot with name ${name} already exists`))
      const back = sb.state
      setState(sb, 'snapshotting')
      const id = idFor('5b', ++state.counters.snapshot)
      const now = nowIso()
      schedule(config.timings.snapshottingMs || 0, () => {
        if (sb.deleted) return
        state.snapshots.set(id, {
          id, name, imageName: undefined, entrypoint: null, cpu: sb.cpu, gpu: sb.gpu, mem: sb.memory, disk: sb.disk,
          state: 'active', errorReason: null, createdAt: now, updatedAt: now, history: ['active'], log: null, request: body, sourceSandboxId: sb.id,
        })
        setState(sb, back)
      })
      return send(ctx, 200, sandboxDto(sb))
    },

    setAutostopInterval: (ctx, p) => setInterval_(ctx, p, 'autoStopInterval'),
    setAutoArchiveInterval: (ctx, p) => setInterval_(ctx, p, 'autoArchiveInterval'),
    setAutoDeleteInterval: (ctx, p) => setInterval_(ctx, p, 'autoDeleteInterval'),

    getBuildLogsUrl(ctx, p) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      return send(ctx, 200, { url: logsUrl('sandbox', sb.id) })
    },

    getToolboxProxyUrl(ctx, p) {
      const sb = findSandbox(p.sandboxId)
      if (!sb) return sandboxNotFound(ctx, p.sandboxId)
      return send(ctx, 200, { url: toolboxUrl })
    },

    getBuildLogs(ctx, p) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      return serveLogs(ctx, sb.log, `sandbox ${sb.id}`)
    },

    createSnapshot(ctx, _p, body) {
      const b = body || {}
      if (findSnapshot(b.name)) return send(ctx, 409, errorBody(409, `Snapshot with name ${b.name} already exists`))
      const id = idFor('5b', ++state.counters.snapshot)
      const now = nowIso()
      const sn = {
        id,
        name: b.name,
        imageName: b.imageName,
        entrypoint: b.entrypoint || null,
        cpu: b.cpu ?? 1,
        gpu: b.gpu ?? 0,
        mem: b.memory ?? 1,
        disk: b.disk ?? 3,
        buildInfo: b.buildInfo,
        regionId: b.regionId,
        sandboxClass: b.sandboxClass,
        state: 'pending',
        errorReason: null,
        createdAt: now,
        updatedAt: now,
        history: ['pending'],
        log: b.buildInfo ? new BuildLog() : null,
        request: b,
      }
      state.snapshots.set(id, sn)
      const t = config.timings
      const setSn = (st, reason) => {
        sn.state = st
        sn.updatedAt = nowIso()
        if (reason !== undefined) sn.errorReason = reason
        sn.history.push(st)
      }
      if (b.buildInfo) {
        const sb = merge(config.snapshotBuild, {})
        schedule(t.snapshotPendingMs, () => {
          if (sn.deleted) return
          setSn('building')
          emitLines(sn, sb, () => {
            if (sn.deleted) return
            sn.log.finish()
            if (sb.outcome === 'build_failed' || sb.outcome === 'error') setSn(sb.outcome, sb.errorReason)
            else setSn('active')
          })
        })
      } else {
        schedule(t.snapshotPendingMs, () => {
          if (sn.deleted) return
          setSn('pulling')
          schedule(t.snapshotPullMs, () => !sn.deleted && setSn('active'))
        })
      }
      return send(ctx, 200, snapshotDto(sn))
    },

    getAllSnapshots(ctx) {
      const one = (k) => (ctx.query.get(k) || [])[0]
      const page = Number(one('page') || 1)
      const limit = Number(one('limit') || 100)
      let items = [...state.snapshots.values()]
      const name = one('name')
      if (name) items = items.filter((s) => s.name.includes(name))
      const total = items.length
      const slice = items.slice((page - 1) * limit, page * limit)
      return send(ctx, 200, { items: slice.map(snapshotDto), total, page, totalPages: Math.max(1, Math.ceil(total / limit)) })
    },

    getSnapshot(ctx, p) {
      const sn = findSnapshot(p.id)
      if (!sn) return snapshotNotFound(ctx, p.id)
      return send(ctx, 200, snapshotDto(sn))
    },

    removeSnapshot(ctx, p) {
      const sn = findSnapshot(p.id, true)
      if (!sn) return snapshotNotFound(ctx, p.id)
      sn.deleted = true
      if (sn.log && !sn.log.done) sn.log.finish()
      state.snapshots.delete(sn.id)
      state.removedSnapshots = [...(state.removedSnapshots || []), sn]
      return send(ctx, 200)
    },

    activateSnapshot(ctx, p) {
      const sn = findSnapshot(p.id, true)
      if (!sn) return snapshotNotFound(ctx, p.id)
      if (sn.state !== 'inactive') return send(ctx, 400, errorBody(400, `Snapshot ${sn.id} is ${sn.state}, not inactive`))
      sn.state = 'active'
      sn.history.push('active')
      return send(ctx, 200, snapshotDto(sn))
    },

    getSnapshotBuildLogsUrl(ctx, p) {
      const sn = findSnapshot(p.id, true)
      if (!sn) return snapshotNotFound(ctx, p.id)
      return send(ctx, 200, { url: logsUrl('snapshot', sn.id) })
    },

    getSnapshotBuildLogs(ctx, p) {
      const sn = findSnapshot(p.id, true)
      if (!sn) return snapshotNotFound(ctx, p.id)
      return serveLogs(ctx, sn.log, `snapshot ${sn.id}`)
    },
  }

  function snapshotDto(sn) {
    const dto = {
      id: sn.id,
      organizationId,
      general: false,
      name: sn.name,
      state: sn.state,
      size: sn.state === 'active' ? 0.5 : null,
      entrypoint: sn.entrypoint,
      cpu: sn.cpu,
      gpu: sn.gpu,
      mem: sn.mem,
      disk: sn.disk,
      errorReason: sn.errorReason,
      createdAt: sn.createdAt,
      updatedAt: sn.updatedAt,
      lastUsedAt: null,
      sourceSandboxId: null,
      regionIds: [sn.regionId || config.target],
    }
    if (sn.imageName !== undefined) dto.imageName = sn.imageName
    if (sn.sandboxClass !== undefined) dto.sandboxClass = sn.sandboxClass
    if (sn.buildInfo) {
      dto.buildInfo = {
        dockerfileContent: sn.buildInfo.dockerfileContent,
        contextHashes: sn.buildInfo.contextHashes || [],
        createdAt: sn.createdAt,
        updatedAt: sn.createdAt,
        snapshotRef: `daytona-${sha256(sn.buildInfo.dockerfileContent).slice(0, 32)}:daytona`,
      }
    }
    return dto
  }

  function logsUrl(kind, id) {
    if (config.logsHost === 'foreign') return `${foreignOrigin}/logs/${kind}/${id}/${logsToken}`
    return kind === 'sandbox' ? `${apiUrl}/sandbox/${id}/build-logs` : `${apiUrl}/snapshots/${id}/build-logs`
  }

  return { routeApi, findSandbox, findSnapshot }
}

module.exports = { createApiRoutes }
