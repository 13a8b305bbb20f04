-- Up Migration
-- The word index by project (issue #24). A search always names its projects, but the word index of
-- 1735300000000 held one posting list per entry for the whole installation: a term read the
-- postings and fetched the issues of every project, to drop those of the others afterwards (at a
-- million issues, `module27 handler27` read 57,000 postings and fetched 6,667 issues, none of them
-- in the project searched). Here every entry is the same suffix behind its issue's project id and a
-- dot (`1.module27`), so a search reads the entries of its own projects only: one conjunction per
-- project, ORed (services/api/src/domain/text-words.ts). An index on an expression, as before: the
-- projector writes groups unchanged and Postgres keeps the entries.
--
-- Text too long to split still holds the single entry `~` (every project's), read apart and checked
-- by the ILIKE as before. The two-argument issue_words() stays; the new one splits the same way,
-- written out again: calling the old one and prefixing its entries took 1.5× as long per issue
-- (19 vs 12.5 µs), on every write of a row of groups.
CREATE FUNCTION issue_words(project_id bigint, title text, culprit text) RETURNS tsvector LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  t text := lower(coalesce(title, '') || ' ' || coalesce(culprit, ''));
  project text := project_id::text || '.';
  word text;
  suffixes text[] := '{}';
BEGIN
  IF length(t) > 4000 OR t ~ '[[:alnum:]]{65}' THEN
    RETURN '~'::tsvector;
  END IF;
  FOREACH word IN ARRAY regexp_split_to_array(t, '[^[:alnum:]]+') LOOP
    FOR i IN 1 .. length(word) - 2 LOOP
      suffixes := suffixes || (project || substr(word, i));
    END LOOP;
  END LOOP;
  RETURN array_to_tsvector(suffixes);
END $$;

CREATE INDEX groups_project_words ON groups USING gin (issue_words(project_id, title, culprit));
DROP INDEX groups_words;
-- The API reads the new index's statistics (its most common entries); autovacuum keeps them from here on.
ANALYZE groups;

-- Down Migration
CREATE INDEX groups_words ON groups USING gin (issue_words(title, culprit));
DROP INDEX groups_project_words;
DROP FUNCTION issue_words(bigint, text, text);
ANALYZE groups;
