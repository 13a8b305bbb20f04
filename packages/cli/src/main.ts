import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { Appender, createKafka, createLogger, createPool, provision, readConfig, type Config } from '@trapline/runtime';
import { Codec, topicNames } from '@trapline/schemas';
import { stackPaths, up } from '@trapline/stack';
import { bootstrap, type BootstrapResult } from './bootstrap.ts';
import { serviceSet, SERVICES } from './services.ts';

// `trapline`: the operator's one entry point.

async function runBootstrap(config: Config, knownToken?: string): Promise<BootstrapResult> {
  const logger = createLogger('cli', 'error');
  const pool = createPool(config.DATABASE_URL, 2);
  const appender = await Appender.connect(createKafka(config.kafkaBrokers, `${config.KAFKA_CLIENT_ID}-cli`, logger), new Codec());
  try {
    return await bootstrap({ pool, appender, adminTopic: topicNames(config.KAFKA_TOPIC_PREFIX).admin, publicUrl: config.PUBLIC_URL, ...(knownToken ? { knownToken } : {}) });
  } finally {
    await appender.close();
    await pool.end();
  }
}

function printWelcome(config: Config, result: BootstrapResult, token: string | undefined): void {
  const lines = [
    '',
    'Trapline is running.',
    `  DSN          ${result.dsn}`,
    `  API          ${config.PUBLIC_URL}/api/0/`,
    `  organization ${result.organizationSlug}, project ${result.projectSlug} (id ${result.projectId})`,
    token ? `  API token    ${token}` : '  API token    (kept by whoever created it; `trapline bootstrap` makes a new one)',
    '',
    `  curl -H "Authorization: Bearer ${token ?? '<token>'}" ${config.PUBLIC_URL}/api/0/projects/${result.organizationSlug}/${result.projectSlug}/issues/`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

const program = new Command('trapline').description('Self-hosted error tracker that speaks Sentry\'s protocols');

program
  .command('start')
  .description('start the local stack (Kafka, Postgres, Redis) and every service, print a DSN')
  .action(async () => {
    const config = readConfig();
    await up(config);
    const paths = stackPaths(config);
    const set = serviceSet(process.env, { logDir: join(paths.state, 'logs') });
    const shutdown = async () => {
      process.stdout.write('stopping services (the stack keeps running: npm run stack -- down)\n');
      await set.stopAll();
      process.exit(0);
    };
    process.on('SIGINT', () => void shutdown());
    process.on('SIGTERM', () => void shutdown());
    // npm start prints the same token every time: it is kept beside the stack's data, mode 600.
    const tokenFile = join(paths.state, 'bootstrap-token');
    const saved = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined;
    let result: BootstrapResult;
    try {
      for (const name of SERVICES) await set.start(name);
      result = await runBootstrap(config, saved);
    } catch (error) {
      await set.stopAll(); // leave nothing running behind a failed start
      throw error;
    }
    if (result.token) {
      mkdirSync(paths.state, { recursive: true });
      writeFileSync(tokenFile, `${result.token}\n`, { mode: 0o600 });
    }
    printWelcome(config, result, result.token ?? saved);
    process.stdout.write(`Service logs: ${join(paths.state, 'logs')}/<service>.log. Ctrl-C stops the services.\n`);
  });

program
  .command('provision')
  .description('create the database, run migrations and create every topic (idempotent)')
  .action(async () => {
    const config = readConfig();
    const created = await provision(config, createLogger('cli', 'warn'));
    process.stdout.write(created.length ? `created topics: ${created.join(', ')}\n` : 'everything was already provisioned\n');
  });

program
  .command('bootstrap')
  .description('create the default organization, project, DSN key and an API token (as admin records), print the DSN and token')
  .action(async () => {
    const config = readConfig();
    const result = await runBootstrap(config);
    printWelcome(config, result, result.token);
  });

await program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`trapline: ${(error as Error).message}\n`);
  process.exit(1);
});
