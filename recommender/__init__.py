"""Similar customers, strategies that worked, and lead scores."""
