ALTER TABLE orgs DROP COLUMN projects_used;
ALTER TABLE orgs DROP COLUMN members_used;
ALTER TABLE orgs DROP COLUMN api_keys_used;
ALTER TABLE orgs DROP COLUMN stored_bytes;
