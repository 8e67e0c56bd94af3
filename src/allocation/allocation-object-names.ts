// The default names of the two objects the allocator keeps in the webhook's namespace. Kept apart
// from the Kubernetes adapter that writes them so `serve` can offer them as flag defaults without
// loading @kubernetes/client-node in standalone mode.

/** The ConfigMap recording which UID block each namespace holds. */
export const DEFAULT_LEDGER_NAME = 'secure-defaults-uid-ledger';
/** The Lease that picks the one replica that allocates. */
export const DEFAULT_LEASE_NAME = 'secure-defaults-allocator';
