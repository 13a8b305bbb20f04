// Free-text terms as queries of the word index (migrations 1735300000000_issue-words.sql and
// 1736000000000_issue-words-by-project.sql): an issue holds every suffix of three or more
// characters of every word (maximal run of letters and digits) of its lowercased title and culprit,
// each behind its project's id and a dot (`1.module12`), or the single entry `~` when its text is
// too long to split. A search reads only the entries of the projects it asks for.
//
// A term matches when it is a substring of the title or the culprit. Each run of ASCII letters and
// digits in it lies inside one word of the matching text: a run followed by another character of
// the term ends that word (the word has the run as a suffix: an exact entry); any other run is
// somewhere in it (some suffix starts with it: a prefix entry). What a term yields is thus a
// necessary condition, and the ILIKE still decides (but for a term that is one such run: decides()).
// Runs shorter than three characters give none.

/** One run of a term: an entry of the index (`prefix`: or every entry it begins). */
export interface WordCondition {
  run: string;
  prefix: boolean;
}

/** What an issue must hold to match every term (each run once); none when no term has a run. */
export function wordConditions(terms: string[]): WordCondition[] {
  const conditions = new Map<string, WordCondition>();
  for (const term of terms) {
    const lower = term.toLowerCase();
    // Outside ASCII, Postgres's lower() and its idea of a letter may differ from JavaScript's.
    if (/[^\x20-\x7e]/.test(lower)) continue;
    for (const match of lower.matchAll(/[a-z0-9]{3,}/g)) {
      const condition = { run: match[0], prefix: match.index + match[0].length === lower.length };
      conditions.set(`${condition.run}${condition.prefix ? ':*' : ''}`, condition);
    }
  }
  return [...conditions.values()];
}

/** The entry of the issues whose text is too long to split: they hold it alone, so no condition's query finds them. */
export const UNSPLIT = "'~'";

/** A condition's entry in one project's part of the index. */
const entryOf = (project: number, run: string) => `${project}.${run}`;

/**
 * The tsquery (its text) of all `conditions` alone in any of `projects` (the issues not split are
 * read apart, by UNSPLIT): one conjunction per project; undefined for no condition or no project.
 */
export function splitQueryOf(conditions: WordCondition[], projects: number[]): string | undefined {
  if (conditions.length === 0 || projects.length === 0) return undefined;
  return [...new Set(projects)].map((project) => `(${conditions.map(({ run, prefix }) => `'${entryOf(project, run)}'${prefix ? ':*' : ''}`).join(' & ')})`).join(' | ');
}

/**
 * Whether an issue that holds `chosen` (and was split) is sure to match `term`: when the term is a
 * single run (three or more ASCII letters or digits, nothing else) and its prefix entry is chosen,
 * some word of the lowercased title or culprit contains it, so the lowercased field does (a word
 * lies within one field: the fields are joined by a space) and the ILIKE, which lowercases both
 * sides the same way, holds. Any other term can match a word yet not the text (`field1'`, `mod1 in`).
 */
export function decides(term: string, chosen: WordCondition[]): boolean {
  // The term itself in ASCII: some other characters lowercase to ASCII ones (the Kelvin sign to `k`).
  const run = term.toLowerCase();
  return /^[A-Za-z0-9]{3,}$/.test(term) && chosen.some((condition) => condition.prefix && condition.run === run);
}

/** The tsquery (its text) of all `conditions` in `projects`, which also accepts the issues not split; undefined for none. */
export function queryOf(conditions: WordCondition[], projects: number[]): string | undefined {
  const split = splitQueryOf(conditions, projects);
  return split === undefined ? undefined : `${split} | ${UNSPLIT}`;
}

/** The tsquery (its text) an issue of `projects` must satisfy to match every term, or undefined when none of them gives a condition. */
export function wordQuery(terms: string[], projects: number[]): string | undefined {
  return queryOf(wordConditions(terms), projects);
}

/** The index's statistics (ANALYZE's most common entries and their frequencies) and the number of issues. */
export interface WordStatistics {
  entries: string[];
  /** Each entry's frequency, then the least, the greatest and the null one (pg_stats' most_common_elem_freqs). */
  frequencies: number[];
  issues: number;
}

/**
 * How many postings the index reads for a condition in `projects`, estimated from its statistics:
 * in each project, an entry's frequency, or for a prefix the sum of its entries' (what a partial
 * match reads); an entry not among the most common counts as the least common one does.
 */
export function postings(condition: WordCondition, statistics: WordStatistics, projects: number[]): number {
  const least = statistics.frequencies[statistics.entries.length] ?? 0;
  let frequency = 0;
  for (const project of new Set(projects)) {
    const wanted = entryOf(project, condition.run);
    frequency += least;
    statistics.entries.forEach((entry, index) => {
      if (condition.prefix ? entry.startsWith(wanted) : entry === wanted) frequency += statistics.frequencies[index]!;
    });
  }
  return frequency * statistics.issues;
}

/**
 * The conditions to read, fewest postings first, as long as they stay within `budget` postings
 * together: fewer conditions are still necessary ones. None when even the rarest exceeds it (its
 * issues are then too many to lead a list).
 */
export function affordable(conditions: WordCondition[], statistics: WordStatistics | undefined, budget: number, projects: number[]): WordCondition[] {
  if (statistics === undefined) return conditions;
  let spent = 0;
  const chosen: WordCondition[] = [];
  for (const [condition, cost] of conditions.map((c) => [c, postings(c, statistics, projects)] as const).sort((a, b) => a[1] - b[1])) {
    if (spent + cost > budget) break;
    spent += cost;
    chosen.push(condition);
  }
  return chosen;
}

/**
 * The affordable conditions, and then any other whose postings are fewer than `postingsPerIssue`
 * times the issues the read would otherwise fetch from the table (estimated as if the conditions
 * were independent): a posting costs a fraction of what fetching and checking an issue does, so
 * a second condition of 20,000 postings is worth reading to spare fetching 36,000 issues that hold
 * the first but not it. Past the budget only through the others, never in their place: none when
 * even the rarest exceeds it.
 */
export function worthReading(conditions: WordCondition[], statistics: WordStatistics | undefined, budget: number, postingsPerIssue: number, projects: number[]): WordCondition[] {
  const chosen = affordable(conditions, statistics, budget, projects);
  if (statistics === undefined || chosen.length === 0) return chosen;
  const share = (condition: WordCondition) => postings(condition, statistics, projects) / statistics.issues;
  const rows = chosen.reduce((product, condition) => product * share(condition), statistics.issues);
  return withCheaperOthers(chosen, rows, conditions, statistics, postingsPerIssue, projects);
}

/**
 * `chosen`, which leave about `rows` issues to fetch, and then, rarest first, each other condition
 * whose postings are fewer than `postingsPerIssue` times the issues it would spare fetching.
 */
function withCheaperOthers(chosen: WordCondition[], rows: number, conditions: WordCondition[], statistics: WordStatistics, postingsPerIssue: number, projects: number[]): WordCondition[] {
  const taken = [...chosen];
  let left = rows;
  for (const [condition, cost] of conditions.filter((c) => !chosen.includes(c)).map((c) => [c, postings(c, statistics, projects)] as const).sort((a, b) => a[1] - b[1])) {
    if (cost > postingsPerIssue * left) break;
    taken.push(condition);
    left *= cost / statistics.issues;
  }
  return taken;
}

/**
 * Whether some condition of `chosen` is an exact entry estimated at no more than `most` postings in
 * `projects` (one outside the most common entries counts as the least common one): its issues are
 * then few, and read all for less than a cut of the sort index costs.
 */
export function fewPostings(chosen: WordCondition[], statistics: WordStatistics, projects: number[], most: number): boolean {
  return chosen.some((condition) => !condition.prefix && postings(condition, statistics, projects) <= most);
}

/**
 * The conditions a cut reads (a read of only `share` of the issues, by the sort index): the rarest
 * affordable one, then any other whose postings are fewer than `postingsPerIssue` times the issues
 * the cut would otherwise fetch (those the conditions so far hold, times `share`). The cut fetches
 * only its share of the matches, so a second, common condition rarely pays for its postings there.
 */
export function cutConditions(conditions: WordCondition[], statistics: WordStatistics, budget: number, postingsPerIssue: number, projects: number[], share: number): WordCondition[] {
  const rarest = affordable(conditions, statistics, budget, projects)[0];
  if (rarest === undefined) return [];
  return withCheaperOthers([rarest], postings(rarest, statistics, projects) * share, conditions, statistics, postingsPerIssue, projects);
}
