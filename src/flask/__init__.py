"""Flask 3.1 API, implemented from scratch."""
