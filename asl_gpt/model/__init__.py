"""The fingerspelling network (torch; the training extra only). The runtime never imports this package."""
