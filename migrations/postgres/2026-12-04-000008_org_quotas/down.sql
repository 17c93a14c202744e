ALTER TABLE orgs DROP COLUMN projects_used, DROP COLUMN members_used, DROP COLUMN api_keys_used, DROP COLUMN stored_bytes;
