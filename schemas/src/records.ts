// TypeScript shapes of the Avro records in ../avro. Avro `long` fields holding ids and epoch
// milliseconds stay below 2^53, so they map to `number`; the codec checks every value against its
// schema on encode, so a drift between these types and the .avsc files fails loudly.

export interface EventReceived {
  projectId: number;
  eventId: string;
  receivedAt: number;
  keyId: string;
  payload: string;
}

export interface GroupDeletionRequested {
  projectId: number;
  groupId: number;
  hashes: string[];
  transactionId: string;
  actor: string;
  requestedAt: number;
}

export interface EventDeletionRequested {
  projectId: number;
  eventId: string;
  transactionId: string;
  actor: string;
  requestedAt: number;
}

export type GroupStatus = 'unresolved' | 'resolved' | 'ignored';

export interface GroupStatusChanged {
  projectId: number;
  groupId: number;
  status: GroupStatus;
  actor: string;
  changedAt: number;
}

export interface OrganizationUpserted {
  slug: string;
  name: string;
  createdAt: number;
}

export interface ProjectUpserted {
  projectId: number;
  organizationSlug: string;
  slug: string;
  name: string;
  platform: string | null;
  createdAt: number;
}

export interface ProjectKeyUpserted {
  publicKey: string;
  secretKey: string;
  projectId: number;
  label: string;
  active: boolean;
  createdAt: number;
}

export interface ApiTokenUpserted {
  tokenHash: string;
  organizationSlug: string;
  scopes: string[];
  label: string;
  active: boolean;
  createdAt: number;
}

/** Every record name with its value type: the codec's vocabulary. */
export interface RecordTypes {
  EventReceived: EventReceived;
  GroupDeletionRequested: GroupDeletionRequested;
  EventDeletionRequested: EventDeletionRequested;
  GroupStatusChanged: GroupStatusChanged;
  OrganizationUpserted: OrganizationUpserted;
  ProjectUpserted: ProjectUpserted;
  ProjectKeyUpserted: ProjectKeyUpserted;
  ApiTokenUpserted: ApiTokenUpserted;
}

export type RecordName = keyof RecordTypes;

/** A decoded record as a discriminated union, so consumers `switch (record.name)`. */
export type DomainRecord = { [N in RecordName]: { name: N; version: number; value: RecordTypes[N] } }[RecordName];
