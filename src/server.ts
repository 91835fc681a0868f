#!/usr/bin/env node
/**
 * Launcher: `node dist/server.js -c config.prod.yaml`. service-runner reads the config,
 * forks `num_workers` workers (or runs in this process with 0), sets up logging and
 * Prometheus metrics, and starts the module named in the config (dist/service.js).
 */
import './lazy-limitation';
import ServiceRunner = require('service-runner');

void new ServiceRunner().start();
