import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The harness's port blocks (test/harness.ts): each process holding one has it to itself, also
// after another holder was killed outright (no exit handler ran, nothing of it is left to take over).

const ROOT = join(import.meta.dirname, '..');
const CLAIM = "const { freePort } = await import('./test/harness.ts'); process.stdout.write(`${await freePort()}\\n`); process.stdin.resume();";

/** A process that takes a port of the harness and holds it until its stdin closes (or it is killed). */
function holder() {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CLAIM], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const port = new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.once('exit', (code) => reject(new Error(`the holder exited with ${code} before it had a port`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, port, exited };
}

const blockOf = (port: number) => Math.floor((port - 20000) / 200);

describe('the harness port blocks', () => {
  it('gives processes that hold blocks at the same time different blocks, and the next one a block of its own after one was killed outright', async () => {
    const holders = [holder(), holder(), holder()];
    const blocks = (await Promise.all(holders.map((held) => held.port))).map(blockOf);
    expect(new Set(blocks).size).toBe(3);
    // Killed outright, no exit handler runs; the next holder gets a block of its own all the same.
    const [killed, ...others] = holders;
    killed!.child.kill('SIGKILL');
    await killed!.exited;
    const next = holder();
    const nextBlock = blockOf(await next.port);
    expect(blocks.slice(1)).not.toContain(nextBlock);
    for (const held of [...others, next]) held.child.stdin.end();
    await Promise.all([...others, next].map((held) => held.exited));
  }, 60000);
});
