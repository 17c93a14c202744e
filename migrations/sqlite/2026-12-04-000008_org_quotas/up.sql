-- What each org holds of what its quotas count (see the PostgreSQL migration for why counters).
ALTER TABLE orgs ADD COLUMN projects_used bigint NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN members_used bigint NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN api_keys_used bigint NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN stored_bytes bigint NOT NULL DEFAULT 0;

UPDATE api_keys SET revoked_at = (SELECT users.removed_at FROM users WHERE users.id = api_keys.user_id)
WHERE revoked_at IS NULL
  AND EXISTS (SELECT 1 FROM users WHERE users.id = api_keys.user_id AND users.removed_at IS NOT NULL);

UPDATE orgs SET
    projects_used = (SELECT count(*) FROM projects WHERE projects.org_id = orgs.id AND projects.deleted_at IS NULL),
    members_used = (SELECT count(*) FROM users WHERE users.org_id = orgs.id AND users.removed_at IS NULL),
    api_keys_used = (SELECT count(*) FROM api_keys WHERE api_keys.org_id = orgs.id AND api_keys.revoked_at IS NULL),
    stored_bytes = (
        SELECT COALESCE(SUM(workspace_blobs.size), 0) FROM workspace_blobs
        JOIN workspaces ON workspaces.workspace_ref = workspace_blobs.workspace_ref
        WHERE workspaces.org_id = orgs.id
    );
