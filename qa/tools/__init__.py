"""Developer tools (bench, corpus generator, eval, training): never imported by the query path."""
