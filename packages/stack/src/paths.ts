import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '@trapline/runtime';
import { isRoot } from './processes.ts';

export interface StackPaths {
  /** Servers' data, logs and pid files. */
  state: string;
  /** Downloaded Kafka jars, reused by every clone on the machine. */
  cache: string;
}

// As root the state lives under /var/lib so the postgres system user can own its data directory.
export function stackPaths(config: Config): StackPaths {
  return {
    state: config.TRAPLINE_STATE_DIR ?? (isRoot ? '/var/lib/trapline' : join(homedir(), '.local', 'state', 'trapline')),
    cache: config.TRAPLINE_CACHE_DIR ?? join(homedir(), '.cache', 'trapline'),
  };
}
