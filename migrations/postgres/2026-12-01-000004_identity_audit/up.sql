-- Service accounts are members too; people get their first key from an invitation.
ALTER TABLE users
    ADD COLUMN kind text NOT NULL DEFAULT 'user' CHECK (kind IN ('user', 'service_account')),
    ADD COLUMN name text NULL;

-- Only the SHA-256 of a token is kept; a row dies when used, expired, or its member removed.
CREATE TABLE invitations (
    token_sha256  bytea PRIMARY KEY,
    org_id        uuid NOT NULL,
    user_id       uuid NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    role          text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    used_at       timestamptz NULL,
    CONSTRAINT invitations_user_fkey FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX invitations_user_idx ON invitations (org_id, user_id);

-- Every audit event names what it was about; the events before this were all about projects.
ALTER TABLE audit_events
    ADD COLUMN target_type text NULL,
    ADD COLUMN target_id uuid NULL;
UPDATE audit_events SET target_type = 'project', target_id = project_id WHERE project_id IS NOT NULL;
