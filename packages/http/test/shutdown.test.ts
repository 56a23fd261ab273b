import { spawn } from 'node:child_process';
import path from 'node:path';

/**
 * installShutdownHandlers ends the process, so it runs in a child: the compiled package
 * (`npm run build` first), with shutdown steps that print as they run.
 */
const DIST = path.resolve(__dirname, '../dist/index.js');

function child(body: string) {
  const script = `
    const { installShutdownHandlers, onShutdown } = require(${JSON.stringify(DIST)});
    const logger = { info() {}, warn() {}, error(o, m) { console.log('error ' + (m ?? o)); }, fatal() {} };
    installShutdownHandlers(logger, 5000);
    ${body}
    setInterval(() => {}, 1000);
    console.log('ready');
  `;
  const proc = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const ready = new Promise<void>((resolve) =>
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
      if (out.includes('ready')) resolve();
    }),
  );
  const closed = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  return { proc, ready, closed, lines: () => out.trim().split('\n') };
}

describe('installShutdownHandlers and onShutdown', () => {
  test('When SIGTERM arrives, then the steps run last registered first, a failing step does not stop the others, and the process exits 0', async () => {
    const { proc, ready, closed, lines } = child(`
      onShutdown('pool', async () => console.log('pool closed'));
      onShutdown('broken', async () => { throw new Error('boom'); });
      onShutdown('http', async () => { await new Promise((r) => setTimeout(r, 100)); console.log('http closed'); });
    `);
    await ready;

    proc.kill('SIGTERM');

    expect(await closed).toBe(0);
    expect(lines()).toEqual(['ready', 'http closed', 'error shutdown step failed', 'pool closed']);
  });

  test('When a second signal arrives during a slow shutdown, then the process exits 1 at once', async () => {
    const { proc, ready, closed, lines } = child(`
      onShutdown('stuck', () => new Promise(() => {}));
    `);
    await ready;

    proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    proc.kill('SIGINT');

    expect(await closed).toBe(1);
    expect(lines()).toEqual(['ready']);
  });

  test('When a promise rejection goes unhandled, then the process exits 1 so its supervisor restarts it', async () => {
    const { ready, closed } = child(`setTimeout(() => Promise.reject(new Error('lost the pool')), 50);`);
    await ready;

    expect(await closed).toBe(1);
  });
});
