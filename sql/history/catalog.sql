-- reads: nothing
-- The history catalog's two base views (docs/history.md), over the Parquet files of the
-- history's data folder; {runs_files} and {findings_files} are those files' patterns
-- (HISTORY.d/runs/*/*.parquet), {flag_names} every flag's name, '|'-separated. A run is
-- recorded when its runs file exists: findings of a run without one (a writer killed
-- between its two renames) are not shown. The files keep JSON as text so every engine can
-- read them; here it is JSON again. `night` is the run's local night, the files'
-- partition. findings.details is read from reason for the runs recorded before it existed
-- (below).
CREATE OR REPLACE VIEW runs AS
SELECT * REPLACE (
    CAST(inputs AS JSON) AS inputs,
    CAST(settings AS JSON) AS settings,
    CAST(verdicts AS JSON) AS verdicts,
    CAST(flags AS JSON) AS flags
)
FROM read_parquet({runs_files}, union_by_name = true, hive_partitioning = true,
                  hive_types = {'night': DATE});

CREATE OR REPLACE VIEW findings AS
WITH recorded AS (
    SELECT *
    FROM read_parquet({findings_files}, union_by_name = true, hive_partitioning = true,
                      hive_types = {'night': DATE})
    WHERE run_id IN (SELECT run_id FROM runs)
),
-- A run recorded before migration 5 has no details (NULL in its files): they are read
-- from its reason, split where "; " is followed by a flag's name and ": ",
-- as the report split reasons before details were kept. Best effort: a detail quoting
-- "; FLAG: " is split there too; reason text before the first flag, if any, is kept
-- without a flag.
split AS (
    SELECT *,
        CASE WHEN details IS NULL AND len(flags) > 0 AND reason <> '' THEN
            regexp_split_to_array('; ' || reason, '; (?:{flag_names}): ') END AS clauses,
        CASE WHEN details IS NULL AND len(flags) > 0 AND reason <> '' THEN
            regexp_extract_all('; ' || reason, '; ({flag_names}): ', 1) END AS clause_flags
    FROM recorded
)
SELECT * EXCLUDE (clauses, clause_flags) REPLACE (
    CASE
        WHEN details IS NOT NULL THEN details
        WHEN clauses IS NULL THEN []
        ELSE list_filter(
            list_transform(clauses, lambda clause, i: {
                'flag': clause_flags[i - 1],
                'detail': CASE WHEN i > 1 THEN clause ELSE clause[3:] END}),
            lambda evidence, i: i > 1 OR evidence.detail <> '')
    END AS details
)
FROM split;
