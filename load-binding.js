'use strict'
// Loads the native addon through the loader napi-rs generates (binding.js: the .node file next to
// it, else the daytona-native-<platform> package), and turns its generic failure ("npm has a bug
// related to optional dependencies ... try npm i again") into what is wrong here and what to do.

const pkg = require('./package.json')

const ARCHES = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' }

// napi-rs's platform names (the suffix of the .node file and of the platform package).
function platformOfTriple(triple) {
  const parts = triple.split('-')
  const arch = ARCHES[parts[0]] || parts[0]
  if (triple.includes('-apple-darwin')) return `darwin-${arch}`
  if (triple.includes('-windows-')) return `win32-${arch}-${parts[parts.length - 1]}`
  if (triple.includes('-linux-')) return `linux-${arch}-${parts[parts.length - 1]}`
  return `${parts[2]}-${arch}`
}

function runningPlatform() {
  const { platform, arch } = process
  if (platform === 'linux') {
    let glibc = true
    try {
      glibc = Boolean(process.report.getReport().header.glibcVersionRuntime)
    } catch {
      // keep glibc
    }
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function installedPackage(name) {
  try {
    return require.resolve(`${name}/package.json`)
  } catch {
    return null
  }
}

function loadFailure(cause) {
  const here = runningPlatform()
  const supported = (pkg.napi.targets || []).map(platformOfTriple)
  const platformPkg = `${pkg.name}-${here}`
  const file = `${pkg.napi.binaryName}.${here}.node`
  const fromSource = [
    `To build it from source (Rust and a C compiler needed): git clone ${repositoryUrl()} daytona-native && cd daytona-native && npm install`,
    `then run your program with NAPI_RS_NATIVE_LIBRARY_PATH=<that directory>/${file}`,
  ]
  const lines = [`${pkg.name}: cannot load its native binary for ${here} (Node ${process.version}).`]
  if (!supported.includes(here)) {
    lines.push(`There is no prebuilt binary for ${here}; prebuilt ones exist for: ${supported.join(', ')}.`)
    lines.push(...fromSource)
  } else if (installedPackage(platformPkg)) {
    lines.push(`${platformPkg} is installed but its binary failed to load: ${innermostMessage(cause)}`)
    if (here === 'linux-x64-gnu' || here === 'linux-arm64-gnu') lines.push('The Linux glibc binaries need glibc 2.17 or newer.')
    lines.push(`Supported platforms: ${supported.join(', ')}.`)
    lines.push(...fromSource)
  } else {
    lines.push(
      `Its binary comes in ${platformPkg}, an optional dependency of ${pkg.name}, which is not installed ` +
        '(installs with --omit=optional / --no-optional, or a lockfile made on another platform without it, leave it out).',
    )
    lines.push(`Install it next to ${pkg.name}: npm install ${platformPkg}@${pkg.version}`)
    lines.push(`Supported platforms: ${supported.join(', ')}.`)
    lines.push(...fromSource)
  }
  const error = new Error(lines.join('\n'))
  error.code = 'ERR_DAYTONA_NATIVE_BINDING'
  error.platform = here
  error.supportedPlatforms = supported
  error.cause = cause
  return error
}

function repositoryUrl() {
  const url = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository && pkg.repository.url
  return String(url || '').replace(/^git\+/, '')
}

// napi's loader chains every attempt through `cause`; the first attempt that found a file says
// why it failed (e.g. a missing GLIBC_x version), the others only "Cannot find module".
function innermostMessage(error) {
  const messages = []
  for (let e = error, i = 0; e && i < 20; e = e.cause, i++) messages.push(String(e.message || e))
  return messages.find((m) => !/^Cannot find (module|native binding)/.test(m)) || messages[messages.length - 1]
}

let binding
try {
  binding = require('./binding.js')
} catch (e) {
  throw loadFailure(e)
}
module.exports = binding
