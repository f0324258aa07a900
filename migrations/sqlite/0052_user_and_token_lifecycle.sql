-- Users and tokens have a lifecycle (freshet-api): who created a user or a token, when a
-- token was last used (to the minute), who revoked it, and who deactivated a user. A NULL
-- actor is the operator's command line (`freshet users ...`). Ids are UUID text; times are
-- RFC 3339 UTC text.

ALTER TABLE users ADD COLUMN created_by TEXT REFERENCES users (id);
ALTER TABLE users ADD COLUMN deactivated_at TEXT;
ALTER TABLE users ADD COLUMN deactivated_by TEXT REFERENCES users (id);

ALTER TABLE api_tokens ADD COLUMN created_by TEXT REFERENCES users (id);
ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT;
ALTER TABLE api_tokens ADD COLUMN revoked_by TEXT REFERENCES users (id);
