"""Authentication: passwords, access and refresh tokens."""
