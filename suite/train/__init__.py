"""Training utilities shared by pretraining and the downstream trainer (schedules, …)."""
