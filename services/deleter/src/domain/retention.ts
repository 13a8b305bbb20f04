import type { PartitionRange } from '@trapline/runtime';

// Retention, pure: what is past what each project keeps, and how it leaves.
//
// The events table is partitioned by received time. A partition wholly older than the longest
// retention of any project holds nothing anybody keeps: it expires as a whole for every project
// (an expiry: log records erased, the partition dropped). Only a project that keeps less than the
// longest retention needs its own run, row by row, for its events in the partitions still kept.

export interface ProjectRetention {
  projectId: number;
  /** Days the project keeps its events; null: the global default. */
  retentionDays: number | null;
  /** When its oldest event was received (epoch ms); null: no events. */
  oldest: number | null;
  /** A retention deletion for it is under way already. */
  running: boolean;
}

export interface RetentionDue {
  projectId: number;
  /** Events received before this (epoch ms) go. */
  cutoff: number;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** The longest any project keeps its events, in days. */
export function longestRetentionDays(projects: Pick<ProjectRetention, 'retentionDays'>[], defaultDays: number): number {
  return Math.max(defaultDays, ...projects.map((project) => project.retentionDays ?? defaultDays));
}

/**
 * Projects keeping less than the longest retention, with events past theirs and no retention
 * deletion under way, at `now`. The others lose their old events with whole partitions (dueExpiry).
 */
export function dueRetention(projects: ProjectRetention[], defaultDays: number, now: number): RetentionDue[] {
  const longest = longestRetentionDays(projects, defaultDays);
  return projects.flatMap((project) => {
    const days = project.retentionDays ?? defaultDays;
    if (days >= longest) return [];
    const cutoff = now - Math.round(days * DAY_MS);
    return !project.running && project.oldest !== null && project.oldest < cutoff ? [{ projectId: project.projectId, cutoff }] : [];
  });
}

/**
 * The expiry due at `now`, if any: the end of the newest partition wholly older than the longest
 * retention (epoch ms). Everything received before it leaves, for every project.
 */
export function dueExpiry(partitions: readonly PartitionRange[], longestDays: number, now: number): number | null {
  const horizon = now - Math.round(longestDays * DAY_MS);
  const expired = partitions.filter((range) => range.to * 1000 <= horizon);
  return expired.length === 0 ? null : Math.max(...expired.map((range) => range.to)) * 1000;
}
