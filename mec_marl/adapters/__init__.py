"""Adapters to other RL interfaces (Gymnasium single-agent, ...)."""
