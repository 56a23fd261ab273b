import { Command } from 'commander';
import { registerRamp } from '../../../packages/cli/src/commands/ramp';
import { registerRoute } from '../../../packages/cli/src/commands/route';
import { registerShadow } from '../../../packages/cli/src/commands/shadow';
import { registerStatus } from '../../../packages/cli/src/commands/status';

/**
 * Run `banyan <args>` (status, route, ramp, shadow) in-process against a gateway's admin API; returns
 * what it printed and the exit code it set. `env` gives BANYAN_ADMIN_URL and BANYAN_ADMIN_TOKEN
 * (undefined: unset), restored afterwards.
 */
export async function banyan(args: string[], env: Record<string, string | undefined>) {
  const saved = { url: process.env.BANYAN_ADMIN_URL, token: process.env.BANYAN_ADMIN_TOKEN };
  process.env.BANYAN_ADMIN_URL = env.BANYAN_ADMIN_URL;
  if (env.BANYAN_ADMIN_TOKEN === undefined) delete process.env.BANYAN_ADMIN_TOKEN;
  else process.env.BANYAN_ADMIN_TOKEN = env.BANYAN_ADMIN_TOKEN;
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((m) => void out.push(String(m)));
  const error = jest.spyOn(console, 'error').mockImplementation((m) => void err.push(String(m)));
  process.exitCode = 0;
  try {
    const program = new Command('banyan').exitOverride().configureOutput({ writeErr: (s) => void err.push(s), writeOut: (s) => void out.push(s) });
    for (const register of [registerStatus, registerRoute, registerRamp, registerShadow]) register(program);
    try {
      await program.parseAsync(args, { from: 'user' });
    } catch (e) {
      if (!(e as { exitCode?: number }).exitCode) throw e;
      process.exitCode = (e as { exitCode: number }).exitCode;
    }
    return { out: out.join('\n'), err: err.join('\n'), code: process.exitCode };
  } finally {
    process.exitCode = 0;
    log.mockRestore();
    error.mockRestore();
    process.env.BANYAN_ADMIN_URL = saved.url;
    if (saved.token === undefined) delete process.env.BANYAN_ADMIN_TOKEN;
    else process.env.BANYAN_ADMIN_TOKEN = saved.token;
  }
}
