// Every record key, in one place. Keys are part of the log's contract: on a compacted topic a key
// names the one entity whose latest record survives, and on `trapline.events` the part before the
// first `/` is the partition key, so every record of one project lands on one partition and stays
// totally ordered (DESIGN.md). A key made anywhere else could break either rule unnoticed.

/** The part of a key that picks its partition: everything before the first `/`. */
export function partitionKeyOf(key: string): string {
  const slash = key.indexOf('/');
  return slash === -1 ? key : key.slice(0, slash);
}

/** Keys on `trapline.events`: each starts with its project id. */
export const eventKeys = {
  /** An event, and the null-value record that erases it from the compacted log. */
  event: (projectId: number, eventId: string) => `${projectId}/${eventId}`,
  /** A deletion or retention request. */
  deletion: (projectId: number, transactionId: string) => `${projectId}/deletion/${transactionId}`,
  /** One purged chunk of a deletion. */
  purge: (projectId: number, transactionId: string, chunk: number) => `${projectId}/deletion/${transactionId}/chunk/${chunk}`,
  /** A failed attempt at a deletion's chunk, after `chunksDone` chunks. */
  failure: (projectId: number, transactionId: string, chunksDone: number) => `${projectId}/deletion/${transactionId}/failure/${chunksDone}`,
  /** A source-map bundle assembled for a project. */
  artifactBundle: (projectId: number, bundleId: string) => `${projectId}/artifact-bundle/${bundleId}`,
  /** The delivery log of one alert delivery. */
  alertDelivery: (projectId: number, deliveryId: string) => `${projectId}/alert/${deliveryId}`,
};

/** Keys on `trapline.admin` (one partition, compacted): one key per entity, so compaction keeps its last state. */
export const adminKeys = {
  organization: (slug: string) => `organization/${slug}`,
  project: (projectId: number) => `project/${projectId}`,
  projectTeams: (projectId: number) => `project/${projectId}/teams`,
  projectRetention: (projectId: number) => `project/${projectId}/retention`,
  projectOrigins: (projectId: number) => `project/${projectId}/origins`,
  projectKey: (publicKey: string) => `key/${publicKey}`,
  apiToken: (tokenHash: string) => `token/${tokenHash}`,
  team: (teamId: number) => `team/${teamId}`,
  /** A member on a team; its null value: the member left the team. */
  teamMember: (teamId: number, memberId: string) => `team/${teamId}/member/${memberId}`,
  release: (organizationSlug: string, version: string) => `release/${organizationSlug}/${version}`,
  deploy: (organizationSlug: string, version: string, deployId: string) => `release/${organizationSlug}/${version}/deploy/${deployId}`,
  repository: (organizationSlug: string, name: string) => `repository/${organizationSlug}/${name}`,
  alertRule: (projectId: number, ruleId: string) => `project/${projectId}/rule/${ruleId}`,
  serviceHook: (projectId: number, hookId: string) => `project/${projectId}/hook/${hookId}`,
  alertEmails: (projectId: number) => `project/${projectId}/alert-emails`,
  user: (userId: string) => `user/${userId}`,
  member: (memberId: string) => `member/${memberId}`,
  userToken: (tokenId: string) => `user-token/${tokenId}`,
};

/** Keys on `trapline.notifier.state` (compacted): the notifier's issue state and its input positions. */
export const notifierStateKeys = {
  issue: (projectId: number, hash: string) => `${projectId}/issue/${hash}`,
  position: (topic: string, partition: number) => `position/${topic}/${partition}`,
};
