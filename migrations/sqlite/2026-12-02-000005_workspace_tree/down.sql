DROP TABLE workspace_blobs;
DROP TABLE workspace_entries;
DROP TABLE workspace_revisions;
ALTER TABLE workspaces DROP COLUMN head_seq;
