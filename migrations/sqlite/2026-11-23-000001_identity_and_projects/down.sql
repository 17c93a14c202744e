DROP TABLE project_shares;
DROP TABLE projects;
DROP TABLE api_keys;
DROP TABLE team_members;
DROP TABLE teams;
DROP TABLE users;
DROP TABLE orgs;
