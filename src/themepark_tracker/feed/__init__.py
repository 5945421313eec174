"""The local Queue-Times-compatible feed: a simulated park model, its server and archives."""
