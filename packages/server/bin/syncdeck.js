#!/usr/bin/env node
// The `syncdeck` command. Syncdeck runs its TypeScript sources through tsx, so there is no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// -1: a long-running command (start) that exits on its own signal handling.
if (code >= 0) process.exit(code);
