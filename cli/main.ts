#!/usr/bin/env node
// The `faultline` command (bin/faultline.js imports the compiled form of this file).
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv);
