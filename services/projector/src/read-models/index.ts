import type { PoolClient } from '@trapline/runtime';
import type { DomainRecord } from '@trapline/schemas';
import { parseEvent } from '../domain/received.ts';
import { applyAccounts } from './accounts.ts';
import { applyAlerting } from './alerting.ts';
import { applyAuditEntry } from './audit.ts';
import { applyDeletionRequests, applyEventsPurged } from './deletions.ts';
import { applyContext, type ApplyContext, type Effects, NO_EFFECTS, PoisonRecord } from './effects.ts';
import { applyEvents } from './events.ts';
import { applyStatusChange } from './issue-status.ts';
import { applyOrganizations } from './organizations.ts';
import { applyArtifactBundleAssembled, applyDeployCreated, applyReleaseUpserted, applyRepositoryUpserted } from './releases.ts';

// Which read model each record changes, applied inside the caller's transaction. Every write is
// idempotent (keyed by event id, entity key or group id), so redelivery changes nothing. What is
// left to do once the transaction has committed comes back as effects (effects.ts).

export { applyRemoval } from './accounts.ts';
export { applyEvents } from './events.ts';
export { applyContext, type ApplyContext, combinedEffects, type Effects, PoisonRecord } from './effects.ts';

/**
 * `offset` is the record's offset in its partition (all of a project's records share one); -1 when
 * unknown (tests applying records by hand): a status change then applies only to issues whose
 * status no known offset set.
 */
export async function applyRecord(db: PoolClient, record: DomainRecord, context: ApplyContext = applyContext(), offset = -1): Promise<Effects> {
  switch (record.name) {
    case 'EventReceived': {
      const parsed = parseEvent(record.value, offset);
      if (!parsed.ok) throw new PoisonRecord(parsed.reason);
      return applyEvents(db, [parsed.parsed], context);
    }
    case 'EventsPurged':
      return applyEventsPurged(db, record.value);
    case 'DeletionStep':
    case 'AlertDelivery':
    case 'NotifierIssueState':
    case 'NotifierPosition':
      throw new PoisonRecord(`${record.name} belongs on its service's own topics, not a projected one`);
    default:
      await applyWithoutEffects(db, record, offset);
      return NO_EFFECTS;
  }
}

/** The records whose read models leave nothing to do after the transaction. */
type WithoutEffects = Exclude<DomainRecord, { name: 'EventReceived' | 'EventsPurged' | 'DeletionStep' | 'AlertDelivery' | 'NotifierIssueState' | 'NotifierPosition' }>;

function applyWithoutEffects(db: PoolClient, record: WithoutEffects, offset: number): Promise<void> {
  switch (record.name) {
    case 'OrganizationUpserted':
    case 'ProjectUpserted':
    case 'ProjectRetentionChanged':
    case 'ProjectAllowedOriginsChanged':
    case 'ProjectKeyUpserted':
    case 'TeamUpserted':
    case 'TeamMemberUpserted':
    case 'ProjectTeamsChanged':
    case 'ApiTokenUpserted':
      return applyOrganizations(db, record);
    case 'UserUpserted':
    case 'MemberUpserted':
    case 'UserTokenUpserted':
      return applyAccounts(db, record);
    case 'ReleaseUpserted':
      return applyReleaseUpserted(db, record.value);
    case 'DeployCreated':
      return applyDeployCreated(db, record.value);
    case 'RepositoryUpserted':
      return applyRepositoryUpserted(db, record.value);
    case 'ArtifactBundleAssembled':
      return applyArtifactBundleAssembled(db, record.value);
    case 'AlertRuleUpserted':
    case 'ServiceHookUpserted':
    case 'ProjectAlertEmailsChanged':
    case 'AlertDeliveryChanged':
      return applyAlerting(db, record);
    case 'GroupStatusChanged':
      return applyStatusChange(db, record.value, offset);
    case 'GroupDeletionRequested':
    case 'EventDeletionRequested':
    case 'RetentionRequested':
    case 'DeletionFailed':
      return applyDeletionRequests(db, record);
    case 'AuditEntry':
      return applyAuditEntry(db, record.value);
  }
}
