// Its own module, so that the command line can tell this error apart without loading the cluster
// (and its Redis client) on a single server.

/** The cluster cannot be joined at start (Redis unreachable, the name taken): a configuration error, exit 2. */
export class ClusterStartError extends Error {}
