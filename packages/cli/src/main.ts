import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { Appender, createKafka, createLogger, createPool, provision, readConfig, type Config, type Pool } from '@trapline/runtime';
import { Codec, topicNames } from '@trapline/schemas';
import { stackPaths, up } from '@trapline/stack';
import { AdminError, allowedOrigins, createKey, createOrganization, createProject, createTeam, createToken, setKeyActive, setKeyRateLimit, setRetention, type AdminDeps } from './admin.ts';
import { bootstrap, dsnFor, type BootstrapResult } from './bootstrap.ts';
import { accountCommands } from './account-commands.ts';
import { redriveDeadLetters } from '@trapline/deleter';
import { redriveAlertDeliveries } from '@trapline/notifier';
import { alertCommands } from './alerts.ts';
import { deletionCommands } from './deletions.ts';
import { opsCommands } from './ops.ts';
import { rebuild, RebuildError } from '@trapline/projector';
import { serviceSet, SERVICES } from './services.ts';
import { ensureWebBuild } from './web-build.ts';

// `trapline`: the operator's one entry point.

/** A database pool for one read-only command, closed afterwards. */
async function withPool<T>(config: Config, work: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = createPool(config.DATABASE_URL, 2);
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

/** Connections for one admin command, closed afterwards. */
function withAdmin<T>(config: Config, work: (deps: AdminDeps) => Promise<T>): Promise<T> {
  return withPool(config, async (pool) => {
    const appender = await Appender.connect(createKafka(config.kafkaBrokers, `${config.KAFKA_CLIENT_ID}-cli`, createLogger('cli', 'error')), new Codec());
    try {
      return await work({ pool, appender, adminTopic: topicNames(config.KAFKA_TOPIC_PREFIX).admin });
    } finally {
      await appender.close();
    }
  });
}

function runBootstrap(config: Config, knownToken?: string): Promise<BootstrapResult> {
  return withAdmin(config, (deps) => bootstrap({ ...deps, publicUrl: config.PUBLIC_URL, ...(knownToken ? { knownToken } : {}) }));
}

/** Rows as aligned text columns. */
function printTable(rows: Record<string, unknown>[]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const columns = Object.keys(rows[0]!);
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => String(row[column] ?? '').length)));
  const line = (values: string[]) => values.map((value, index) => value.padEnd(widths[index]!)).join('  ').trimEnd();
  process.stdout.write(`${[line(columns), ...rows.map((row) => line(columns.map((column) => String(row[column] ?? ''))))].join('\n')}\n`);
}

function printWelcome(config: Config, result: BootstrapResult, token: string | undefined): void {
  const lines = [
    '',
    'Trapline is running.',
    `  DSN          ${result.dsn}`,
    `  Web UI       ${config.PUBLIC_URL}/`,
    `  API          ${config.PUBLIC_URL}/api/0/`,
    `  organization ${result.organizationSlug}, project ${result.projectSlug} (id ${result.projectId})`,
    token ? `  API token    ${token}` : '  API token    (kept by whoever created it; `trapline bootstrap` makes a new one)',
    `  sign in as   ${result.owner.email}`,
    result.owner.password ? `  password     ${result.owner.password}   (shown once: note it now)` : `  password     (shown at the first start; \`trapline users reset-password ${result.owner.email}\` makes a new one)`,
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
    ensureWebBuild((line) => process.stdout.write(`${line}\n`));
    await up(config);
    const paths = stackPaths(config);
    const set = serviceSet(process.env, { logDir: join(paths.state, 'logs'), supervise: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`) });
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

program
  .command('rebuild')
  .description('replay the retained log into fresh read models while the projector runs, and swap them in atomically')
  .option('--keep-old', 'keep the replaced tables in schema replaced_<time> instead of dropping them')
  .option('--per-batch', 'project every record by the per-batch path (no bulk load of the events topic)')
  .option('--bulk-max-events <n>', 'events the bulk load holds in memory at most (about 80 bytes each); past it the per-batch path goes on', (value) => Number(value))
  .action(async (options: { keepOld?: boolean; perBatch?: boolean; bulkMaxEvents?: number }) => {
    const config = readConfig();
    const logger = createLogger('cli', 'error');
    await rebuild({
      config, kafka: createKafka(config.kafkaBrokers, `${config.KAFKA_CLIENT_ID}-rebuild`, logger), logger, keepOld: options.keepOld === true, bulk: options.perBatch !== true,
      ...(options.bulkMaxEvents === undefined ? {} : { bulkMaxEvents: options.bulkMaxEvents }), progress: (line) => process.stderr.write(`rebuild: ${line}\n`),
    });
  });

accountCommands(program, { withAdmin: (work) => withAdmin(readConfig(), work), withPool: (work) => withPool(readConfig(), work), printTable, publicUrl: () => readConfig().PUBLIC_URL });

const orgs = program.command('orgs').description('organizations');
orgs.command('create <slug>').option('--name <name>').action(async (slug: string, options: { name?: string }) => {
  const config = readConfig();
  printTable([await withAdmin(config, (deps) => createOrganization(deps, slug, options.name ?? slug))]);
});
orgs.command('list').action(async () => {
  const config = readConfig();
  printTable(await withAdmin(config, async ({ pool }) => (await pool.query('SELECT slug, name, created_at FROM organizations ORDER BY slug')).rows));
});

const projects = program.command('projects').description('projects (the number in a DSN is the project id)');
projects.command('create <org> <slug>').option('--name <name>').option('--id <id>', 'project id (default: the next free one)', Number).option('--platform <platform>').option('--team <team>', 'the team (slug) it belongs to')
  .action(async (org: string, slug: string, options: { name?: string; id?: number; platform?: string; team?: string }) => {
    const config = readConfig();
    const project = await withAdmin(config, (deps) => createProject(deps, org, slug, options));
    printTable([{ id: project.projectId, organization: project.organizationSlug, slug: project.slug, name: project.name }]);
  });
projects
  .command('retention <project_id> <days>')
  .description('how many days the project keeps its events (fractions allowed), or "default" for RETENTION_DAYS')
  .action(async (projectId: string, days: string) => {
    const config = readConfig();
    printTable([await withAdmin(config, (deps) => setRetention(deps, Number(projectId), days === 'default' ? null : Number(days)))]);
  });
projects
  .command('origins <project>')
  .description("the origins whose browser SDKs may post (Sentry's allowedDomains); <project> is an id or <org>/<slug>")
  .option('--set <origins>', 'comma-separated patterns: *, example.com, *.example.com, https://example.com[:port]; "" refuses every browser origin')
  .option('--default', 'back to the default, any origin (*)')
  .action(async (project: string, options: { set?: string; default?: boolean }) => {
    if (options.set !== undefined && options.default) throw new AdminError('give --set or --default, not both');
    const change = options.default ? { set: null } : options.set === undefined ? undefined : { set: options.set.split(',').map((text) => text.trim()).filter(Boolean) };
    const config = readConfig();
    printTable([await withAdmin(config, (deps) => allowedOrigins(deps, project, change))]);
  });
projects.command('list').action(async () => {
  const config = readConfig();
  printTable(await withAdmin(config, async ({ pool }) => (await pool.query('SELECT id, organization_slug AS organization, slug, name FROM projects ORDER BY id')).rows));
});

const teams = program.command('teams').description("teams (Sentry's): a project belongs to teams");
teams.command('create <org> <slug>').option('--name <name>').action(async (org: string, slug: string, options: { name?: string }) => {
  const config = readConfig();
  printTable([await withAdmin(config, (deps) => createTeam(deps, org, slug, options.name))]);
});
teams.command('list').action(async () => {
  const config = readConfig();
  printTable(await withAdmin(config, async ({ pool }) =>
    (await pool.query("SELECT t.organization_slug AS organization, t.slug, t.name, coalesce(string_agg(p.slug, ',' ORDER BY p.slug), '') AS projects FROM teams t LEFT JOIN project_teams pt ON pt.team_id = t.id LEFT JOIN projects p ON p.id = pt.project_id GROUP BY t.id ORDER BY t.organization_slug, t.slug")).rows));
});

const keys = program.command('keys').description('DSN keys');
keys.command('create <projectId>').option('--label <label>').action(async (projectId: string, options: { label?: string }) => {
  const config = readConfig();
  const key = await withAdmin(config, (deps) => createKey(deps, Number(projectId), options.label));
  printTable([{ key: key.publicKey, label: key.label, dsn: dsnFor(config.PUBLIC_URL, key.publicKey, key.projectId) }]);
});
keys.command('list [projectId]').action(async (projectId?: string) => {
  const config = readConfig();
  const rows = await withAdmin(config, async ({ pool }) =>
    (await pool.query<{ key: string; project: number; label: string; active: boolean }>('SELECT public_key AS key, project_id AS project, label, active FROM project_keys WHERE $1::bigint IS NULL OR project_id = $1 ORDER BY project_id, created_at', [projectId ?? null])).rows);
  printTable(rows.map((row) => ({ ...row, dsn: dsnFor(config.PUBLIC_URL, row.key, row.project) })));
});
keys
  .command('rate-limit <publicKey> <limit>')
  .description('the key\'s own rate limit as <count>/<window seconds> (e.g. 100/60), or "none" for the deployment\'s')
  .action(async (publicKey: string, limit: string) => {
    const match = /^(\d+)\/(\d+)$/.exec(limit);
    if (!match && limit !== 'none') throw new AdminError(`invalid rate limit ${JSON.stringify(limit)}: <count>/<window seconds> or none`);
    const config = readConfig();
    printTable([await withAdmin(config, (deps) => setKeyRateLimit(deps, publicKey, match ? { count: Number(match[1]), window: Number(match[2]) } : null))]);
  });
for (const [name, active] of [['revoke', false], ['enable', true]] as const) {
  keys.command(`${name} <publicKey>`).action(async (publicKey: string) => {
    const config = readConfig();
    await withAdmin(config, (deps) => setKeyActive(deps, publicKey, active));
    process.stdout.write(`key ${publicKey} ${active ? 'enabled' : 'revoked'} (ingest follows within KEY_CACHE_REFRESH_MS)\n`);
  });
}

const tokens = program.command('tokens').description('API tokens');
tokens.command('list').description('tokens by the first characters of their hash (the tokens themselves are not stored)').action(async () => {
  const config = readConfig();
  printTable(await withAdmin(config, async ({ pool }) =>
    (await pool.query("SELECT left(token_hash, 12) AS hash, organization_slug AS organization, array_to_string(scopes, ',') AS scopes, label, active FROM api_tokens ORDER BY created_at")).rows));
});
tokens.command('create <org>')
  .option('--scopes <scopes>', 'comma-separated Sentry scopes (default: all)').option('--label <label>')
  .action(async (org: string, options: { scopes?: string; label?: string }) => {
    const config = readConfig();
    const scopes = options.scopes?.split(',').map((scope) => scope.trim()).filter(Boolean);
    const created = await withAdmin(config, (deps) => createToken(deps, org, scopes, options.label));
    process.stdout.write(`${created.token}\n`);
  });

const redriveDeletions = () => {
  const config = readConfig();
  const logger = createLogger('cli', 'warn');
  return redriveDeadLetters({
    kafka: createKafka(config.kafkaBrokers, `${config.KAFKA_CLIENT_ID}-redrive`, logger),
    topics: topicNames(config.KAFKA_TOPIC_PREFIX),
    groupId: `${config.deleterGroup}.redrive`,
    transactionalId: `${config.deleterGroup}.redrive`,
    logger,
  });
};

deletionCommands(program, {
  withPool: (work) => withPool(readConfig(), work),
  printTable,
  redrive: redriveDeletions,
});

const redriveAlerts = () => {
  const config = readConfig();
  const logger = createLogger('cli', 'warn');
  return redriveAlertDeliveries({
    kafka: createKafka(config.kafkaBrokers, `${config.KAFKA_CLIENT_ID}-redrive`, logger),
    topics: topicNames(config.KAFKA_TOPIC_PREFIX),
    groupId: `${config.notifierGroup}.redrive`,
    transactionalId: `${config.notifierGroup}.redrive`,
    logger,
  });
};

alertCommands(program, { withPool: (work) => withPool(readConfig(), work), printTable });

opsCommands(program, { printTable, redriveDeletions, redriveAlerts });

await program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`trapline: ${(error as Error).message}\n`);
  process.exit(error instanceof AdminError || error instanceof RebuildError ? 2 : 1);
});
