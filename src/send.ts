#!/usr/bin/env node
/**
 * `node dist/send.js -c config.yaml --provider <id> --token <token>` (`npm run send -- ...`):
 * sends one message through the real provider code and says what the service would do with
 * the answer. See src/cli/send.ts (SEND_USAGE).
 */
import { runAsProcess } from './cli/run';
import { sendMain } from './cli/send';

runAsProcess(sendMain);
