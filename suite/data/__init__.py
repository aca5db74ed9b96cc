"""Data: finding official files, reading them, encoding sequences, caching, splitting, verifying."""
