"""Search: an encrypted Whoosh index over the masked text only (issue 5)."""
