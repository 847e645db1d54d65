"""Jobs: one uploaded file each, from `created` to `completed` or `failed`."""
