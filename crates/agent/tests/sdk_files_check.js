// Drives the agent's /files routes with the official SDK 0.218 FileSystem class over HTTP on a
// local TCP port whose connections are each carried by `relay` (as the local client does over
// docker exec). Manual check, not run by cargo test:
//   node crates/agent/tests/sdk_files_check.js target/debug/daytona-native-agent [MiB]
// (needs the repo's node_modules; NODE_MODULES overrides the path). MiB (default 64) is the
// size of the streamed upload/download; the agent's peak RSS is printed after it.
const path = require('path');
const fs = require('fs');
const os = require('os');
const assert = require('assert/strict');
const M = (process.env.NODE_MODULES || path.join(__dirname, '../../../node_modules')) + '/';
const net = require('net');
const { spawn } = require('child_process');
const { Readable } = require('stream');
const { FileSystem } = require(M + '@daytonaio/sdk/cjs/FileSystem.js');
const { FileSystemApi, Configuration } = require(M + '@daytona/toolbox-api-client');
const axios = require(M + 'axios');

const sock = 'dna-sdk-files-' + process.pid;
const agent = spawn(process.argv[2], ['serve'], { env: { ...process.env, DAYTONA_AGENT_SOCKET: sock }, stdio: 'inherit' });
const server = net.createServer((c) => {
  const r = spawn(process.argv[2], ['relay'], { env: { ...process.env, DAYTONA_AGENT_SOCKET: sock }, stdio: ['pipe', 'pipe', 'inherit'] });
  c.pipe(r.stdin); r.stdout.pipe(c);
  r.on('exit', () => c.end()); c.on('error', () => r.kill()); r.stdin.on('error', () => {});
});
const peakKiB = (pid) => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

async function main() {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  await new Promise((r) => setTimeout(r, 300));
  const basePath = `http://127.0.0.1:${server.address().port}`;
  const cfg = new Configuration({ basePath, baseOptions: { headers: { 'X-Daytona-SDK-Version': '0.218.0' } } });
  const fsApi = new FileSystem(cfg, new FileSystemApi(cfg, basePath, axios.create()));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dna-sdk-files-'));
  const p = (rel) => path.join(dir, rel);

  await fsApi.createFolder(p('a/b'), '755');
  await fsApi.uploadFile(Buffer.from('hello needle\nbye\n'), p('a/b/one.txt'));
  await fsApi.uploadFiles([
    { source: Buffer.from('two'), destination: p('two.txt') },
    { source: Buffer.from('{"x":1}'), destination: p('deep/er/three.json') },
  ]);
  const list = await fsApi.listFiles(dir);
  assert.deepEqual(list.map((f) => f.name), ['a', 'deep', 'two.txt']);
  const tree = await fsApi.listFiles(dir, { depth: 3 });
  assert.ok(tree.some((f) => f.path === p('a/b/one.txt')));
  const info = await fsApi.getFileDetails(p('a/b/one.txt'));
  assert.equal(info.size, 17);
  assert.equal(info.isDir, false);
  assert.deepEqual(await fsApi.findFiles(dir, 'needle'), [{ file: p('a/b/one.txt'), line: 1, content: 'hello needle' }]);
  assert.deepEqual(await fsApi.searchFiles(dir, '*.json'), { files: [p('deep/er/three.json')] });
  const rep = await fsApi.replaceInFiles([p('a/b/one.txt'), p('missing')], 'needle', 'pin');
  assert.deepEqual(rep[0], { file: p('a/b/one.txt'), success: true });
  assert.equal(rep[1].success, false);
  assert.equal((await fsApi.downloadFile(p('a/b/one.txt'))).toString(), 'hello pin\nbye\n');
  await fsApi.setFilePermissions(p('two.txt'), { mode: '600' });
  assert.equal((await fsApi.getFileDetails(p('two.txt'))).permissions, '0600');
  await fsApi.moveFiles(p('two.txt'), p('moved.txt'));
  const res = await fsApi.downloadFiles([{ source: p('moved.txt') }, { source: p('nope') }, { source: p('deep/er/three.json'), destination: p('local.json') }]);
  assert.equal(res[0].result.toString(), 'two');
  assert.equal(res[1].error, `file not found: ${p('nope')}`);
  assert.equal(res[1].errorDetails.statusCode, 404);
  assert.equal(res[1].errorDetails.code, 'FILE_NOT_FOUND');
  assert.equal(res[2].error, undefined);
  assert.equal(fs.readFileSync(p('local.json'), 'utf8'), '{"x":1}');
  await assert.rejects(fsApi.downloadFile(p('nope')), (e) => e.message === `file not found: ${p('nope')}` && e.statusCode === 404);
  await assert.rejects(fsApi.getFileDetails(p('nope')), (e) => e.statusCode === 404 || e.response?.status === 404 || /404|no such file/.test(e.message));
  await assert.rejects(fsApi.deleteFile(p('a')), (e) => /recursive/.test(e.message) || e.response?.status === 400);
  await fsApi.deleteFile(p('a'), true);

  // Streamed both ways, generated and checked on the fly.
  const mib = Number(process.argv[3] || 64);
  const block = Buffer.alloc(1 << 20);
  async function* gen() {
    for (let i = 0; i < mib; i++) { block.fill(i % 251); yield Buffer.from(block); }
  }
  await fsApi.uploadFileStream(Readable.from(gen()), p('big.bin'));
  assert.equal(fs.statSync(p('big.bin')).size, mib << 20);
  const stream = await fsApi.downloadFileStream(p('big.bin'));
  let n = 0;
  for await (const chunk of stream) {
    for (let j = 0; j < chunk.length; j += 4096) assert.equal(chunk[j], Math.floor((n + j) / (1 << 20)) % 251);
    n += chunk.length;
  }
  assert.equal(n, mib << 20);
  console.log(`sdk files check ok; agent peak RSS ${peakKiB(agent.pid)} KiB after a ${mib} MiB streamed upload and download`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main()
  .catch((e) => { console.error(e); process.exitCode = 1; })
  .finally(() => { agent.kill('SIGTERM'); server.close(); setTimeout(() => process.exit(), 200); });
