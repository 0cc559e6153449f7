"""The routes and the page: per-client and shared counters, the origin check, the race API."""
