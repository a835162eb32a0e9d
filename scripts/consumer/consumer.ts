// Type-checked with `tsc --strict` in a project without @types/node (scripts/consumer-test.sh).
import {
  Daytona,
  DaytonaError,
  DaytonaNotFoundError,
  Image,
  type ImagePlan,
  type Sandbox,
} from 'daytona-native'

export async function usage(sandbox: Sandbox): Promise<number> {
  const image: Image = Image.debianSlim('3.12').pipInstall(['numpy']).workdir('/home/daytona').env({ A: 'b' })
  const plan: ImagePlan = await image.plan()
  // Without Node's types a Buffer is the Uint8Array it extends.
  await sandbox.fs.uploadFile(new Uint8Array([104, 105]), 'hi.txt')
  const bytes: Uint8Array = await sandbox.fs.downloadFile('hi.txt')
  const r = await sandbox.process.executeCommand('echo hi')
  try {
    await new Daytona().get('nope')
  } catch (e) {
    if (e instanceof DaytonaNotFoundError) return e.statusCode ?? 404
    if (e instanceof DaytonaError) return 0
  }
  // @ts-expect-error pipInstall takes package names
  image.pipInstall(1)
  return plan.contexts.length + bytes.length + r.exitCode
}
