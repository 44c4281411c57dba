"""One blueprint per area. Views parse, call one service, commit, then render or redirect."""
