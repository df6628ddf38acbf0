import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { reportError } from './output.js';

const argv = process.argv;
try {
  await buildProgram().parseAsync(argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed its message (unknown option, missing argument, --help).
    process.exitCode = err.exitCode;
  } else {
    process.exitCode = reportError(err, argv.includes('--json'));
  }
}
