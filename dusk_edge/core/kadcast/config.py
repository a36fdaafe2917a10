# Theory of operation: every Kadcast tunable in one object, with PROTOCOL.md §1.1 defaults.
# Simulations and tests shorten the timers; the wire profile (network id, version, FEC scheme)
# comes from the genesis. Times are integer milliseconds.
from dusk_edge.core.errors import ConfigError


class KadcastConfig:
    __slots__ = ("network_id", "version", "k", "alpha", "beta", "node_ttl", "evict_after",
                 "bucket_ttl", "min_peers", "bootstrap_retry", "cache_ttl", "auto_propagate",
                 "pow_bits", "pull_repair", "repair_after", "repair_attempts", "rate_per_s",
                 "rate_burst", "max_rate_sources", "invalid_limit", "max_receiving_rays",
                 "max_receiving_bytes", "max_served_rays", "max_broadcast_len", "relay_fastest",
                 "relay_fast_first")

    def __init__(self, network_id=0x45, version=(0, 1, 0), **overrides):
        self.network_id = network_id
        self.version = version
        self.k = 20
        self.alpha = 3
        self.beta = 3
        self.node_ttl = 30000
        self.evict_after = 5000
        self.bucket_ttl = 3600000
        self.min_peers = 3
        self.bootstrap_retry = 30000
        self.cache_ttl = 60000
        self.auto_propagate = True
        self.pow_bits = 20            # what we produce; receivers require 8
        self.pull_repair = True       # dusk-edge extension (REPAIR message), DESIGN.md §3
        self.repair_after = 400       # ms of silence on an undecoded ray before asking
        self.repair_attempts = 6
        self.rate_per_s = 6000        # datagrams per second per source ip ...
        self.rate_burst = 6000        # ... with this burst (a 1 MB ray is ~930 datagrams)
        self.max_rate_sources = 4096
        self.invalid_limit = 256      # malformed datagrams from one address before blocking it
        self.max_receiving_rays = 256
        self.max_receiving_bytes = 64 * 1024 * 1024
        self.max_served_rays = 64     # encoders kept for pull repair
        self.max_broadcast_len = 10 * 1024 * 1024 - 1
        self.relay_fastest = 8        # broadcast(relay=True) picks among this many fastest peers
        self.relay_fast_first = True  # a relay's first hop: random among the 2*beta nearest per bucket
        for name, value in overrides.items():
            if name not in self.__slots__:
                raise ConfigError("kadcast: unknown setting %r" % name)
            setattr(self, name, value)
        if not 0 <= self.network_id <= 255:
            raise ConfigError("kadcast: network_id must be a byte")
        if self.k < 1 or self.beta < 1 or self.alpha < 1:
            raise ConfigError("kadcast: k, alpha and beta must be positive")

    def version_matches(self, theirs):
        """Caret match (semver ^ours): same major, or same minor when major is 0, and >= ours."""
        ours = self.version
        if theirs[0] != ours[0]:
            return False
        if ours[0] == 0 and theirs[1] != ours[1]:
            return False
        return theirs >= ours
