// The same package through ESM named imports (Node's CommonJS export detection).
import assert from 'node:assert/strict'
import { Image, DaytonaError, DaytonaNotFoundError } from 'daytona-native'

const plan = await Image.base('busybox').runCommands('echo hi').plan()
assert.match(plan.dockerfile, /^FROM busybox/)
assert.ok(DaytonaNotFoundError.prototype instanceof DaytonaError)
console.log('consumer (ESM): named imports OK')
