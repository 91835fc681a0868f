#!/usr/bin/env node
/**
 * `node dist/check.js -c config.yaml` (`npm run check -- -c config.yaml`): checks the
 * credentials of every configured provider instance and the wiki account, sending nothing a
 * person would see. Runs in the image too. See src/cli/check.ts (CHECK_USAGE).
 */
import { checkMain } from './cli/check';
import { runAsProcess } from './cli/run';

runAsProcess(checkMain);
