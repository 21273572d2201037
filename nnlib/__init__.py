"""nnlib: a small numpy neural-network library built unit by unit in the course."""
