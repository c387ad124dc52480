// worker-boot.mjs — a worker thread does not inherit tsx's loader: register it, then run worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
