"""The sales domain: stages, records and rules, free of frameworks and I/O."""
