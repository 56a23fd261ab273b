import { Command } from 'commander';
import { registerParity } from '../../../cli/src/commands/parity';

/** Run `banyan parity …` in-process, capturing what it prints and the exit code it sets. */
export async function banyanParity(...args: string[]): Promise<{ exitCode: number; output: string }> {
  const program = new Command('banyan').exitOverride();
  registerParity(program);
  const lines: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void lines.push(parts.join(' ')));
  try {
    await program.parseAsync(['parity', ...args], { from: 'user' });
    return { exitCode: Number(process.exitCode ?? 0), output: lines.join('\n') };
  } finally {
    log.mockRestore();
    // The command reports through process.exitCode; left set, it would fail the whole jest run.
    process.exitCode = undefined;
  }
}
