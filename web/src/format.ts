// How times and counts read in the UI.

const UNITS: [number, string][] = [
  [365 * 86400, 'y'],
  [30 * 86400, 'mo'],
  [86400, 'd'],
  [3600, 'h'],
  [60, 'min'],
];

/** `3h ago`, `just now`; `now` is passed in so the text is a function of its input. */
export function timeAgo(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 45) return 'just now';
  const [size, unit] = UNITS.find(([unitSeconds]) => seconds >= unitSeconds) ?? [60, 'min'];
  return `${Math.max(1, Math.floor(seconds / size))}${unit} ago`;
}

/** 999, 1.2k, 34k, 1.5M: what fits a list column. */
export function compactCount(value: number | string): string {
  const count = Number(value);
  if (count < 1000) return String(count);
  const [divisor, suffix] = count < 1_000_000 ? [1000, 'k'] : [1_000_000, 'M'];
  const scaled = count / divisor;
  return `${scaled < 10 ? scaled.toFixed(1).replace(/\.0$/, '') : Math.floor(scaled)}${suffix}`;
}

/** A timestamp as the API and SDKs give it (ISO text or unix seconds) → ISO text, or undefined. */
export function toIso(timestamp: unknown): string | undefined {
  if (typeof timestamp === 'number') return new Date(timestamp * 1000).toISOString();
  if (typeof timestamp === 'string' && !Number.isNaN(Date.parse(timestamp))) return new Date(timestamp).toISOString();
  return undefined;
}

/** `2026-01-15 10:30:05 UTC` */
export function dateTime(iso: string | null | undefined): string {
  return iso ? `${iso.slice(0, 19).replace('T', ' ')} UTC` : '—';
}
