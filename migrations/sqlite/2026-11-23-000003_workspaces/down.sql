DROP TABLE workspace_sessions;
DROP TABLE workspaces;
