"""The HTTP edge: middleware, dependencies, problem+json errors, rate limits.
Routers live with their domains; this package holds what they share."""
