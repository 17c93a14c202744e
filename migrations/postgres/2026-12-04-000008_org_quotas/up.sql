-- What each org holds of what its quotas count, kept in the same transaction as every write that
-- changes it: a write takes its share with one conditional UPDATE of the org's row (which also
-- queues concurrent writers of the same org), so the count cannot overshoot and no write has to
-- count rows.
ALTER TABLE orgs
    ADD COLUMN projects_used bigint NOT NULL DEFAULT 0,
    ADD COLUMN members_used bigint NOT NULL DEFAULT 0,
    ADD COLUMN api_keys_used bigint NOT NULL DEFAULT 0,
    ADD COLUMN stored_bytes bigint NOT NULL DEFAULT 0;

-- Keys of members who left stop working; they stop counting too, as revoked.
UPDATE api_keys SET revoked_at = users.removed_at
FROM users
WHERE users.id = api_keys.user_id AND users.removed_at IS NOT NULL AND api_keys.revoked_at IS NULL;

UPDATE orgs SET
    projects_used = (SELECT count(*) FROM projects WHERE projects.org_id = orgs.id AND projects.deleted_at IS NULL),
    members_used = (SELECT count(*) FROM users WHERE users.org_id = orgs.id AND users.removed_at IS NULL),
    api_keys_used = (SELECT count(*) FROM api_keys WHERE api_keys.org_id = orgs.id AND api_keys.revoked_at IS NULL),
    stored_bytes = (
        SELECT COALESCE(SUM(workspace_blobs.size), 0)::bigint FROM workspace_blobs
        JOIN workspaces ON workspaces.workspace_ref = workspace_blobs.workspace_ref
        WHERE workspaces.org_id = orgs.id
    );
