"""dna-suite: benchmark suite and leaderboard harness for DNA sequence models."""

__version__ = "0.1.0"
