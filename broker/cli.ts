#!/usr/bin/env node
/**
 * The `runnel` command line: `runnel start` (broker/start.ts) and the client commands (topic, produce,
 * consume, group, cluster: client/cli/), and `runnel dev` (client/cli/dev.ts: etcd and N nodes as child
 * processes, broker/dev-cluster.ts). `runnel start` goes straight to broker/start.ts and loads neither
 * commander nor the client commands; the client commands load none of the broker. The installed
 * executable is broker/bin.cts, which runs the bundled form of this file or of start.ts. Exit codes:
 * 0 success, 1 error, 2 usage error.
 */
import { Command, CommanderError } from 'commander';

async function main(argv: string[]): Promise<void> {
  if (argv[2] === 'start') {
    const { runStart } = await import('./start.js');
    return runStart(argv.slice(3));
  }
  const program = new Command();
  program.name('runnel').description('Runnel: a Kafka-compatible log broker').showHelpAfterError().exitOverride();
  // Listed for `runnel --help`; `runnel start ...` never reaches commander (its help: `runnel start --help`).
  program
    .command('start')
    .description('start a broker node (options: runnel start --help)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (_opts: unknown, cmd: Command) => {
      const { runStart } = await import('./start.js');
      await runStart(cmd.args);
    });
  const { registerClientCommands } = await import('../client/cli/commands.js');
  registerClientCommands(program);
  await program.parseAsync(argv);
}

main(process.argv).catch((err: Error) => {
  // Usage errors exit 2 (commander has printed them); --help and --version exit 0.
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  process.stderr.write(`runnel: ${err.message}\n`);
  process.exit(1);
});
