-- One default workspace per (project, user); its tree lives in the blob store, the head here.
CREATE TABLE workspaces (
    workspace_ref  text PRIMARY KEY,
    org_id         text NOT NULL,
    project_id     text NOT NULL,
    user_id        text NOT NULL,
    head_revision  text NULL,
    created_at     bigint NOT NULL,
    last_used_at   bigint NOT NULL,
    CONSTRAINT workspaces_project_fkey FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    CONSTRAINT workspaces_user_fkey FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id),
    CONSTRAINT workspaces_project_user_key UNIQUE (org_id, project_id, user_id)
);

CREATE TABLE workspace_sessions (
    session_ref    text PRIMARY KEY,
    workspace_ref  text NOT NULL REFERENCES workspaces (workspace_ref),
    org_id         text NOT NULL,
    session_type   text NOT NULL,
    state          text NOT NULL,
    created_at     bigint NOT NULL,
    last_used_at   bigint NOT NULL,
    closed_at      bigint NULL
);
CREATE INDEX workspace_sessions_live_idx ON workspace_sessions (workspace_ref, last_used_at DESC) WHERE closed_at IS NULL;
