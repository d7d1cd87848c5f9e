// The `soulvm` command line: dispatches to one module per subcommand.

const USAGE = `usage: soulvm <command> [options]

commands:
  run     run a machine (soulvm run --help)
  start   boot the default guest headless (builds it first if missing)
  disk    create, inspect, check and convert virtual disks (soulvm disk --help)
`;

/** Thrown for bad command-line input: printed as one line, exit status 2. */
export class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run': return await (await import('./run.ts')).runCommand(rest);
      case 'start': return await (await import('./run.ts')).startCommand(rest);
      case 'disk': return await (await import('./disk.ts')).diskCommand(rest);
      case undefined: case '-h': case '--help': case 'help':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`soulvm: ${err.message}\n`);
      return 2;
    }
    // Errors that carry a user-facing message (typed errors from disks, loaders) print one line.
    if (err instanceof Error && (err as { userFacing?: boolean }).userFacing) {
      process.stderr.write(`soulvm: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
