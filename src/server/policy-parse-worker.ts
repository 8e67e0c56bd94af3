// Entry point of the worker thread that reads and validates one policy text (workerData) and posts
// the plain-data result back, so the YAML parse of a policy of up to 1 MiB never holds the event
// loop that answers admissions. See worker-policy-parser.ts, which starts it.
import { parentPort, workerData } from 'node:worker_threads';
import { validatePolicy } from '../engine/policy-parser.js';

parentPort?.postMessage(validatePolicy(workerData as string));
