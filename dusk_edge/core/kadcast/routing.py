# Theory of operation: the Kademlia routing table of PROTOCOL.md §1.4. A node lands in bucket
# floor(log2(own ^ id)) (ids read little-endian). Each bucket keeps <= K nodes in LRU order
# (index 0 least recently seen) plus one pending slot. A full bucket never drops a live node for a
# newcomer (old nodes are the reliable ones): the newcomer waits as pending while the LRU node is
# pinged; if the LRU does not answer within evict_after it is replaced by the pending node. This
# makes eclipsing a node by flooding it with fresh ids hard. All times are integer ms.
from dusk_edge.core.errors import LocalProtocolError
from dusk_edge.core.kadcast.ids import ID_LEN, bucket_index

K_K = 20
NODE_TTL_MS = 30000
NODE_EVICT_AFTER_MS = 5000

REFRESHED = "refreshed"
INSERTED = "inserted"
FULL = "full"
PENDING = "pending"


class Node:
    """A routing-table entry; ``ip`` is packed octets, ``addr`` the (ip, port) key."""
    __slots__ = ("id", "ip", "port", "seen_at", "evict_requested_at", "key", "info")

    def __init__(self, node_id, ip, port, seen_at):
        self.id = node_id
        self.key = int.from_bytes(node_id, "little")  # for XOR-distance sorting
        self.info = None  # cached PeerInfo bytes for NODES replies
        self.ip = ip
        self.port = port
        self.seen_at = seen_at
        self.evict_requested_at = None

    @property
    def addr(self):
        return (self.ip, self.port)

    def is_alive(self, now, ttl):
        return now - self.seen_at < ttl

    def __repr__(self):
        return "Node(%s, %d)" % (bytes(self.id).hex()[:8], self.port)


class Bucket:
    __slots__ = ("nodes", "pending")

    def __init__(self):
        self.nodes = []
        self.pending = None

    def find(self, node_id):
        for i, node in enumerate(self.nodes):
            if node.id == node_id:
                return i
        return -1


class RoutingTable:
    __slots__ = ("own_id", "k", "node_ttl", "evict_after", "buckets", "_by_addr")

    def __init__(self, own_id, k=K_K, node_ttl=NODE_TTL_MS, evict_after=NODE_EVICT_AFTER_MS):
        if len(own_id) != ID_LEN:
            raise LocalProtocolError("own id must be %d bytes" % ID_LEN)
        self.own_id = own_id
        self.k = k
        self.node_ttl = node_ttl
        self.evict_after = evict_after
        self.buckets = {}
        self._by_addr = {}

    def __len__(self):
        return len(self._by_addr)

    def bucket_of(self, node_id):
        return bucket_index(self.own_id, node_id)

    def get_by_addr(self, addr):
        return self._by_addr.get(addr)

    def nodes(self):
        return list(self._by_addr.values())

    def alive_count(self, now):
        return sum(1 for n in self._by_addr.values() if n.is_alive(now, self.node_ttl))

    def is_bucket_full(self, node_id):
        bucket = self.buckets.get(self.bucket_of(node_id))
        return bucket is not None and len(bucket.nodes) >= self.k

    def insert_or_refresh(self, node_id, ip, port, now):
        """Record that (id, ip, port) was heard at ``now``. Returns (result, node_to_ping):
        node_to_ping is the LRU node to PING when the newcomer became pending, else None."""
        height = self.bucket_of(node_id)
        if height < 0:
            return FULL, None  # our own id: never a table entry
        bucket = self.buckets.get(height)
        if bucket is None:
            bucket = self.buckets[height] = Bucket()
        self._evict_expired(bucket, now)
        index = bucket.find(node_id)
        if index >= 0:
            node = bucket.nodes.pop(index)
            if node.addr != (ip, port):
                raise LocalProtocolError("an id is bound to its address")
            node.seen_at = now
            node.evict_requested_at = None
            bucket.nodes.append(node)
            return REFRESHED, None
        if (ip, port) in self._by_addr:
            return FULL, None  # same address, other id: cannot happen with bound ids
        node = Node(node_id, ip, port, now)
        if len(bucket.nodes) < self.k:
            bucket.nodes.append(node)
            self._by_addr[node.addr] = node
            return INSERTED, None
        lru = bucket.nodes[0]
        if lru.is_alive(now, self.node_ttl):
            return FULL, None
        bucket.pending = node
        if lru.evict_requested_at is None:
            lru.evict_requested_at = now
        return PENDING, lru

    def _evict_expired(self, bucket, now):
        if not bucket.nodes:
            return
        lru = bucket.nodes[0]
        if lru.evict_requested_at is None or now - lru.evict_requested_at < self.evict_after:
            return
        bucket.nodes.pop(0)
        del self._by_addr[lru.addr]
        self._promote_pending(bucket, now)

    def _promote_pending(self, bucket, now):
        pending = bucket.pending
        bucket.pending = None
        if pending is not None and pending.is_alive(now, self.node_ttl) \
                and len(bucket.nodes) < self.k and pending.addr not in self._by_addr:
            bucket.nodes.append(pending)
            self._by_addr[pending.addr] = pending

    def remove(self, node_id):
        height = self.bucket_of(node_id)
        bucket = self.buckets.get(height)
        if bucket is None:
            return None
        index = bucket.find(node_id)
        if index < 0:
            return None
        node = bucket.nodes.pop(index)
        del self._by_addr[node.addr]
        return node

    def remove_idle_nodes(self, now):
        """Drop nodes not seen within node_ttl, then promote pending nodes; returns the dropped."""
        dropped = []
        for bucket in self.buckets.values():
            keep = []
            for node in bucket.nodes:
                if node.is_alive(now, self.node_ttl):
                    keep.append(node)
                else:
                    dropped.append(node)
                    del self._by_addr[node.addr]
            bucket.nodes = keep
            self._promote_pending(bucket, now)
        return dropped

    def idle_nodes(self, now):
        return [n for n in self._by_addr.values() if not n.is_alive(now, self.node_ttl)]

    def closest(self, target, count=K_K, exclude_id=None):
        """Up to ``count`` known nodes nearest to ``target`` by XOR distance."""
        t = int.from_bytes(target, "little")
        candidates = [n for n in self._by_addr.values() if n.id != exclude_id]
        candidates.sort(key=lambda n: n.key ^ t)
        return candidates[:count]

    def stale_heights(self, now, bucket_ttl):
        """Heights 0..127 whose bucket is empty or whose LRU node is older than bucket_ttl."""
        out = []
        for height in range(ID_LEN * 8):
            bucket = self.buckets.get(height)
            if bucket is None or not bucket.nodes or now - bucket.nodes[0].seen_at >= bucket_ttl:
                out.append(height)
        return out

    def alive_nodes(self, now):
        return [n for n in self._by_addr.values() if n.is_alive(now, self.node_ttl)]
