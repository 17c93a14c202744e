ALTER TABLE projects DROP COLUMN budget_nanos;
