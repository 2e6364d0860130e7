"""The live twin: readings in (REST, MQTT), history, current state in the graph, rules, events.

See docs/live.md. Entry point: :func:`kg_twin.live.service.get_live`.
"""
