"""SMART App Launch 2.2: tenant lookup, discovery, authorize, callback, tokens, refresh."""
