import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The sample Prometheus configuration and alert rules in deploy/. Always parsed and checked for
// shape; with promtool on the machine (Debian's `prometheus` package), also checked and unit-tested
// the way Prometheus itself reads them.

const deploy = join(import.meta.dirname, '..', 'deploy');
const read = (file: string) => parse(readFileSync(join(deploy, file), 'utf8'));
const promtool = spawnSync('promtool', ['--version']).status === 0;

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string };
}

describe('deploy/prometheus.yml and deploy/alerts.yml', () => {
  it('scrape every service on its port and load the alert rules', () => {
    const config = read('prometheus.yml') as { rule_files: string[]; scrape_configs: { job_name: string; dns_sd_configs: { names: string[]; port: number }[] }[] };
    expect(config.rule_files).toEqual(['alerts.yml']);
    const jobs = Object.fromEntries(config.scrape_configs.map((job) => [job.job_name, job.dns_sd_configs[0]]));
    expect(jobs).toEqual({
      ingest: expect.objectContaining({ names: ['ingest'], port: 9001 }),
      api: expect.objectContaining({ names: ['api'], port: 9002 }),
      projector: expect.objectContaining({ names: ['projector'], port: 9003 }),
      deleter: expect.objectContaining({ names: ['deleter'], port: 9004 }),
      notifier: expect.objectContaining({ names: ['notifier'], port: 9005 }),
    });
  });

  it('alert on a service down, lag growing, dead letters, dead deletions and ingest errors, each with a severity and a summary', () => {
    const rules = (read('alerts.yml') as { groups: { rules: Rule[] }[] }).groups.flatMap((group) => group.rules);
    expect(rules.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining(['TraplineServiceDown', 'TraplineConsumerLagGrowing', 'TraplineDeadLetters', 'TraplineDeletionsDead', 'TraplineIngestErrors']),
    );
    for (const rule of rules) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels.severity);
      expect(rule.annotations.summary, rule.alert).toBeTruthy();
    }
  });

  it.runIf(promtool)('pass promtool check config, check rules and the rules\' unit tests', () => {
    for (const args of [['check', 'config', 'prometheus.yml'], ['check', 'rules', 'alerts.yml'], ['test', 'rules', 'alerts.test.yml']]) {
      const result = spawnSync('promtool', args, { cwd: deploy, encoding: 'utf8' });
      expect(result.status, `promtool ${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(0);
    }
  });
});
