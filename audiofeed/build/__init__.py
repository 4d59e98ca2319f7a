"""The build: read -> plan -> schedule -> publish (builder), rendering jobs, the pool and the cluster, the cache, the output folder."""
