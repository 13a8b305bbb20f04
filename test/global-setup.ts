import { readConfig } from '@trapline/runtime';
import { up } from '@trapline/stack';

/** The real servers, started (or found running) by the same script as `npm run stack -- up`. */
export default async function setup(): Promise<void> {
  await up(readConfig());
}
