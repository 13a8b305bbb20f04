// Free-text terms as queries of the word index (migration 1735300000000_issue-words.sql): an issue
// holds every suffix of three or more characters of every word (maximal run of letters and digits)
// of its lowercased title and culprit, or the single entry `~` when its text is too long to split.
//
// A term matches when it is a substring of the title or the culprit. Each run of ASCII letters and
// digits in it lies inside one word of the matching text: a run followed by another character of
// the term ends that word (the word has the run as a suffix: an exact entry); any other run is
// somewhere in it (some suffix starts with it: a prefix entry). What a term yields is thus a
// necessary condition, and the ILIKE still decides. Runs shorter than three characters give none.

/** The tsquery (its text) an issue must satisfy to match every term, or undefined when none of them gives a condition. */
export function wordQuery(terms: string[]): string | undefined {
  const conditions = terms.flatMap((term) => {
    const lower = term.toLowerCase();
    // Outside ASCII, Postgres's lower() and its idea of a letter may differ from JavaScript's.
    if (/[^\x20-\x7e]/.test(lower)) return [];
    return [...lower.matchAll(/[a-z0-9]{3,}/g)].map((run) => (run.index + run[0].length < lower.length ? `'${run[0]}'` : `'${run[0]}':*`));
  });
  if (conditions.length === 0) return undefined;
  return `(${[...new Set(conditions)].join(' & ')}) | '~'`;
}
