-- Files stored with a recorded problem, listed by Library::problem_assets
-- without a walk over every asset.
CREATE INDEX assets_with_errors ON assets (id) WHERE error IS NOT NULL;
