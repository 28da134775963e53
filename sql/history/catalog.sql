-- reads: nothing
-- The history catalog's two base views (docs/history.md), over the Parquet files of the
-- history's data folder; {runs_files} and {findings_files} are those files' patterns
-- (HISTORY.d/runs/*/*.parquet). A run is recorded when its runs file exists: findings of a
-- run without one (a writer killed between its two renames) are not shown. The files keep
-- JSON as text so every engine can read them; here it is JSON again. `night` is the run's
-- local night, the files' partition.
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
SELECT *
FROM read_parquet({findings_files}, union_by_name = true, hive_partitioning = true,
                  hive_types = {'night': DATE})
WHERE run_id IN (SELECT run_id FROM runs);
