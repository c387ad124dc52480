/**
 * cache-dir.ts — where fromscratch keeps its local state: the blob cache and build records.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** cacheDir returns $FROMSCRATCH_CACHE, else $XDG_CACHE_HOME/fromscratch, else ~/.cache/fromscratch. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FROMSCRATCH_CACHE) return env.FROMSCRATCH_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fromscratch');
}
