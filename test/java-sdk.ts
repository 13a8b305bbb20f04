import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig } from '@trapline/runtime';
import { stackPaths } from '@trapline/stack';
import { runConcurrently } from './harness.ts';

// The official Java SDK (io.sentry:sentry from Maven Central, resolved once into the stack's cache
// as the Kafka jars are), driven by test/fixtures/java/SentryBurst.java with Java's source launcher.

export const SENTRY_JAVA_VERSION = '8.63.0';
const FIXTURES = join(import.meta.dirname, 'fixtures', 'java');

function sentryClasspath(): string {
  const libs = join(stackPaths(readConfig()).cache, `sentry-java-${SENTRY_JAVA_VERSION}`);
  const ready = join(libs, '.complete');
  if (!existsSync(ready)) {
    mkdirSync(libs, { recursive: true });
    const result = spawnSync('mvn', ['-B', '-q', '-f', join(FIXTURES, 'pom.xml'), `-Dsentry.version=${SENTRY_JAVA_VERSION}`, 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`, '-DincludeScope=runtime'], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`Maven could not resolve io.sentry:sentry:${SENTRY_JAVA_VERSION}: ${result.stdout}${result.stderr}`);
    if (!readdirSync(libs).some((file) => file.startsWith('sentry-'))) throw new Error('Maven delivered no sentry jar');
    writeFileSync(ready, `${new Date().toISOString()}\n`);
  }
  return `${libs}/*`;
}

/** Sends `count` messages back to back to `dsn` and waits for the SDK to flush; resolves with the event ids it printed. */
export async function sendJavaBurst(dsn: string, count: number, prefix: string): Promise<string[]> {
  const classpath = sentryClasspath();
  const run = await runConcurrently('java', ['-cp', classpath, join(FIXTURES, 'SentryBurst.java'), dsn, String(count), prefix]);
  if (run.status !== 0) throw new Error(`java exited ${run.status}: ${run.stderr}`);
  return run.stdout.split('\n').filter((line) => /^[0-9a-f]{32}$/.test(line));
}
