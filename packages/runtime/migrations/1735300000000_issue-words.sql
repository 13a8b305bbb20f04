-- Up Migration
-- Free-text search by words (issue #24). A search term matches an issue when it is a substring of
-- its title or culprit (ILIKE), and the trigram indexes answer that by ANDing the posting lists of
-- the term's trigrams: for `module12` or `field7'` most of those (`mod`, `fie`, `eld`) are held by
-- nearly every title, so the bitmap they build grows with the issues however few match.
--
-- This index holds, for each issue, every suffix of three or more characters of every word
-- (maximal run of letters and digits) of its lowercased title and culprit. An ASCII term's word pieces (runs of three or more letters
-- and digits) then name what an issue must hold (services/api/src/domain/text-words.ts): a piece followed by a separator in the term ends a
-- word (its own suffix: an exact entry), any other piece lies inside one (some suffix starts with
-- it: a prefix match). Those entries' posting lists hold the issues whose words contain the piece,
-- about as many as the term matches, not as many as share its letters. The condition is necessary,
-- never sufficient: the API still checks every candidate with the ILIKE, so answers are unchanged.
--
-- Text past 4,000 characters or with a word over 64 (whose suffixes would not fit a tsvector) is
-- not split: the issue holds the single entry `~`, which every word query also accepts.
--
-- An index on an expression: the projector (live and rebuild) writes groups as before and Postgres
-- keeps the index. The function lives in the read model's schema (a rebuild's schema is renamed to
-- public with it) and calls only pg_catalog.
CREATE FUNCTION issue_words(title text, culprit text) RETURNS tsvector LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  t text := lower(coalesce(title, '') || ' ' || coalesce(culprit, ''));
  word text;
  suffixes text[] := '{}';
BEGIN
  IF length(t) > 4000 OR t ~ '[[:alnum:]]{65}' THEN
    RETURN '~'::tsvector;
  END IF;
  FOREACH word IN ARRAY regexp_split_to_array(t, '[^[:alnum:]]+') LOOP
    FOR i IN 1 .. length(word) - 2 LOOP
      suffixes := suffixes || substr(word, i);
    END LOOP;
  END LOOP;
  RETURN array_to_tsvector(suffixes);
END $$;

CREATE INDEX groups_words ON groups USING gin (issue_words(title, culprit));
-- The API reads the index's statistics (its most common entries) to leave out the conditions
-- that would read too many postings; autovacuum keeps them from here on.
ANALYZE groups;

-- Down Migration
DROP INDEX groups_words;
DROP FUNCTION issue_words(text, text);
