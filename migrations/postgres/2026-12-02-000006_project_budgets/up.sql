-- A project's spend budget in billionths of a dollar, as usage costs are; NULL: none.
ALTER TABLE projects ADD COLUMN budget_nanos BIGINT;
