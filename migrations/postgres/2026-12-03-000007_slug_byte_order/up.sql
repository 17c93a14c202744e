-- Slugs are ASCII; comparing them byte by byte lets the (org_id, slug) index serve the range
-- "base-" ≤ slug < "base." that finds a derived slug's taken suffixes (a create probes it), where
-- a LIKE 'base-%' under the database's locale scanned every project of the org. The unique index
-- is rebuilt with the column; no row changes.
ALTER TABLE projects ALTER COLUMN slug TYPE text COLLATE "C";
