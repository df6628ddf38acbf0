/** A TypeScript script run by this Node with tsx, as the retraining backends run a configured command. */
export const tsxCommand = (script: string, ...args: string[]): string[] => [
  process.execPath,
  '--import',
  'tsx',
  script,
  ...args,
];
