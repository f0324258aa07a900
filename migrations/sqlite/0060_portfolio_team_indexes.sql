-- A person's portfolios (GET /portfolios for a team member) are found through an index on
-- each role of the team instead of a scan of every portfolio. The role comes first, so each
-- term of the "any role" OR has an index of its own on both backends.
CREATE INDEX portfolios_account_manager_idx ON portfolios (account_manager, generation, client, portfolio_id);
CREATE INDEX portfolios_social_ad_specialist_idx ON portfolios (social_ad_specialist, generation, client, portfolio_id);
CREATE INDEX portfolios_copywriter_idx ON portfolios (copywriter, generation, client, portfolio_id);
CREATE INDEX portfolios_designer_idx ON portfolios (designer, generation, client, portfolio_id);
CREATE INDEX portfolios_team_lead_idx ON portfolios (team_lead, generation, client, portfolio_id);
