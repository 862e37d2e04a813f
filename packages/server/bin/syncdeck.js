#!/usr/bin/env node
// The `syncdeck` command. Syncdeck runs its TypeScript sources through tsx, so there is no build step.
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

register();
// Workspace packages that publish a build (@syncdeck/sdk) export their TypeScript sources under
// this condition. Registered after tsx, so it runs first and tsx resolves with the condition.
registerHooks(
  `data:text/javascript,${encodeURIComponent(
    'export function resolve(s, c, next) { return next(s, { ...c, conditions: [...c.conditions, "@syncdeck/source"] }); }',
  )}`,
);
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// -1: a long-running command (start) that exits on its own signal handling.
if (code >= 0) process.exit(code);
