-- Users and tokens have a lifecycle (freshet-api): who created a user or a token, when a
-- token was last used (to the minute), who revoked it, and who deactivated a user. A NULL
-- actor is the operator's command line (`freshet users ...`).

ALTER TABLE users ADD COLUMN created_by UUID REFERENCES users (id);
ALTER TABLE users ADD COLUMN deactivated_at TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN deactivated_by UUID REFERENCES users (id);

ALTER TABLE api_tokens ADD COLUMN created_by UUID REFERENCES users (id);
ALTER TABLE api_tokens ADD COLUMN last_used_at TIMESTAMPTZ;
ALTER TABLE api_tokens ADD COLUMN revoked_by UUID REFERENCES users (id);
