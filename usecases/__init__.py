"""Use cases between the chat and the domain: what the handlers, the scheduler and the command line all do
(find stalled customers, notify people, goal state, the week's tasks, forecast snapshots, monthly recognition,
standups). Depends on ``sales``, ``store``, ``nlu`` and ``recommender``; never on ``handlers`` or ``bot``."""
