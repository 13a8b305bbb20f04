import { describe, expect, it } from 'vitest';
import { adminKeys, eventKeys, notifierStateKeys, partitionKeyOf } from './keys.ts';

// Given/when/then for the two rules keys carry: one project is one partition of trapline.events,
// and one entity is one key on a compacted topic.

describe('record keys', () => {
  describe('given a record of project 42 on trapline.events', () => {
    const keys = [
      eventKeys.event(42, 'a'.repeat(32)),
      eventKeys.deletion(42, 't1'),
      eventKeys.purge(42, 't1', 3),
      eventKeys.failure(42, 't1', 2),
      eventKeys.artifactBundle(42, 'b1'),
      eventKeys.alertDelivery(42, 'd1'),
    ];
    it('when its partition key is taken, then it is the project id, whatever the record', () => {
      expect(keys.map(partitionKeyOf)).toEqual(Array(keys.length).fill('42'));
    });
    it('then no two kinds of record share a key (compaction would keep only one)', () => {
      expect(new Set(keys).size).toBe(keys.length);
    });
    it('then an event and the erasure of that event are the same key', () => {
      expect(eventKeys.event(42, 'e')).toBe('42/e');
    });
  });

  describe('given the chunks and failures of one deletion', () => {
    it('when each is keyed, then each chunk and each failed attempt is its own record', () => {
      expect([eventKeys.purge(1, 't', 0), eventKeys.purge(1, 't', 1), eventKeys.failure(1, 't', 0), eventKeys.failure(1, 't', 1)]).toEqual([
        '1/deletion/t/chunk/0',
        '1/deletion/t/chunk/1',
        '1/deletion/t/failure/0',
        '1/deletion/t/failure/1',
      ]);
    });
  });

  describe('given the entities of trapline.admin', () => {
    const keys = {
      organization: adminKeys.organization('acme'),
      project: adminKeys.project(7),
      projectTeams: adminKeys.projectTeams(7),
      projectRetention: adminKeys.projectRetention(7),
      projectOrigins: adminKeys.projectOrigins(7),
      projectKey: adminKeys.projectKey('pk'),
      apiToken: adminKeys.apiToken('ab12'),
      team: adminKeys.team(7),
      teamMember: adminKeys.teamMember(7, 'm1'),
      release: adminKeys.release('acme', '1.0'),
      deploy: adminKeys.deploy('acme', '1.0', 'd1'),
      repository: adminKeys.repository('acme', 'web'),
      alertRule: adminKeys.alertRule(7, 'r1'),
      serviceHook: adminKeys.serviceHook(7, 'h1'),
      alertEmails: adminKeys.alertEmails(7),
      user: adminKeys.user('u1'),
      member: adminKeys.member('m1'),
      userToken: adminKeys.userToken('t1'),
    };
    it('when each of one project is keyed, then every setting has a key of its own (a retention change never compacts away the project)', () => {
      expect(new Set(Object.values(keys)).size).toBe(Object.keys(keys).length);
    });
    it('then the keys are the ones the log already holds (changing one would orphan every record written before)', () => {
      expect(keys).toEqual({
        organization: 'organization/acme',
        project: 'project/7',
        projectTeams: 'project/7/teams',
        projectRetention: 'project/7/retention',
        projectOrigins: 'project/7/origins',
        projectKey: 'key/pk',
        apiToken: 'token/ab12',
        team: 'team/7',
        teamMember: 'team/7/member/m1',
        release: 'release/acme/1.0',
        deploy: 'release/acme/1.0/deploy/d1',
        repository: 'repository/acme/web',
        alertRule: 'project/7/rule/r1',
        serviceHook: 'project/7/hook/h1',
        alertEmails: 'project/7/alert-emails',
        user: 'user/u1',
        member: 'member/m1',
        userToken: 'user-token/t1',
      });
    });
  });

  describe('given the notifier state', () => {
    it('when an issue and a position are keyed, then they never collide', () => {
      expect([notifierStateKeys.issue(3, 'h'), notifierStateKeys.position('trapline.events', 3)]).toEqual(['3/issue/h', 'position/trapline.events/3']);
    });
  });

  it('a key without a slash is its own partition key', () => {
    expect(partitionKeyOf('standalone')).toBe('standalone');
  });
});
