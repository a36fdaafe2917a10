# Theory of operation: the per-content state of a stripe-tree transfer (docs/edge-broadcast.md),
# no I/O. A Content exists per claim (content_id, size). The body is rs-coded (docs/rs-chunk.md):
# block b of k_b source symbols is sent as ESIs 0..N_b-1, N_b = k_b + max(2, ceil(k_b * repair%)),
# ESIs >= N_b are the pull-repair reserve. Symbol (b, e) belongs to stripe e mod S. Per stripe the
# content keeps our tree height, our parent (the first offerer) and our subscribers (children that
# asked for the stripe); every (subscriber, symbol) is sent at most once (``sent``). Offers we made
# wait in ``offers`` until the delegate acknowledges them. Received symbols are kept as ready
# datagrams (our SYMBOL prefix + chunk) so forwarding costs one concatenation per symbol.
# A short content has fewer sent ESIs than stripes: only stripes < ``live`` exist (are offered,
# wanted, synced). Upload budgets count datagram bytes in units of one full sent set. ``load``
# projects our upload from the tree heights we accepted (interior cap, edge_tree.py).
from dusk_edge.core.kadcast import rs

NO_HEIGHT = -1
NEVER_AT = 1 << 62
_COEFFICIENTS = {}                 # (k << 8 | esi) -> Cauchy row of a repair symbol


class Offer:
    """Stripes offered to one delegate and not acknowledged yet."""
    __slots__ = ("addr", "role", "pairs", "attempts", "next_at")

    def __init__(self, addr, role, now):
        self.addr = addr
        self.role = role
        self.pairs = {}          # stripe -> height
        self.attempts = 0
        self.next_at = now


def sent_count(k, repair_percent):
    """N_b: ESIs of a block of k source symbols sent down the trees."""
    return min(256, k + max(2, (k * repair_percent + 99) // 100))


def sent_set_bytes(size, repair_percent, dgram_len):
    """Datagram bytes of one full sent set (every ESI < N_b of every block): the unit of the upload
    budgets, so a content of any size can be served budget_copies times whole."""
    _, sizes = rs.layout(size)
    return sum(sent_count(k, repair_percent) for k in sizes) * dgram_len


class Content:
    __slots__ = ("cid", "size", "stripes", "num_blocks", "sizes", "sent_n", "summary", "decoder",
                 "frame", "blocks_left", "heights", "parents", "subs", "sent", "dgrams", "order",
                 "offers", "tried", "holders", "contributors", "suspects", "uploaded", "budget",
                 "per_peer", "peer_cap", "created_at", "last_progress", "repair_attempts",
                 "next_repair_at", "repair_turn", "first_source", "legacy",
                 "next_reserve", "regen", "head", "origin", "expires_at", "announcers", "rooted",
                 "keys_rr", "by_stripe", "next_sync_at", "holder_set", "stripe_keys", "live",
                 "load", "stripe_bytes", "declines")

    def __init__(self, cid, size, stripes, repair_percent, now, budget_copies, peer_copies,
                 dgram_len):
        self.cid = cid
        self.size = size
        self.stripes = stripes
        self.num_blocks, self.sizes = rs.layout(size)
        self.sent_n = [sent_count(k, repair_percent) for k in self.sizes]
        self.live = min(stripes, max(self.sent_n))  # stripes >= live carry no sent ESI
        self.summary = b""
        self.decoder = rs.RsDecoder(size, rs.SYMBOL_SIZE, self.num_blocks)
        self.frame = None
        self.blocks_left = self.num_blocks
        self.heights = [NO_HEIGHT] * stripes
        self.parents = [None] * stripes
        self.subs = [[] for _ in range(stripes)]
        self.sent = {}             # subscriber addr -> {key (block << 8 | esi): released at, 0 queued}
        self.dgrams = {}           # key -> SYMBOL datagram we can send (received or regenerated)
        self.order = []            # keys in the order we obtained them (cut-through FIFO)
        self.offers = {}           # delegate addr -> Offer
        self.tried = {}            # (stripe, bucket) -> delegates tried
        self.holders = []          # offerers: repair sources
        self.contributors = set()  # addrs whose symbols fed the decoder
        self.suspects = None       # after a mismatch among several sources: one at a time
        self.uploaded = 0          # SYMBOL bytes sent for this content
        unit = sent_set_bytes(size, repair_percent, dgram_len)
        self.budget = int(budget_copies * unit)  # SYMBOL datagram bytes
        self.per_peer = {}
        self.peer_cap = int(peer_copies * unit)
        self.created_at = now
        self.last_progress = now
        self.repair_attempts = 0
        self.next_repair_at = None
        self.repair_turn = 0
        self.first_source = None
        self.legacy = {}           # as-specified delegate addr -> height (Kadcast chunks, verified)
        self.next_reserve = [n for n in self.sent_n]  # next never-sent repair ESI per block
        self.regen = None          # per block: its source symbols, cut from the frame on demand
        self.head = None           # rs chunk header up to the block byte (set by the peer)
        self.origin = False
        self.expires_at = None
        self.announcers = []       # peers that offered exactly this (id, size)
        self.rooted = False        # the stripe trees were started here (relay or originator)
        self.keys_rr = None        # all_keys() once verified
        self.by_stripe = [[] for _ in range(stripes)]  # ``order`` split by stripe
        self.next_sync_at = NEVER_AT
        self.holder_set = set()
        self.stripe_keys = None    # all_keys(s) per stripe once verified
        self.load = 0              # projected SYMBOL bytes of the tree heights we accepted
        self.stripe_bytes = [0] * stripes  # datagram bytes of stripe s's sent ESIs (one child)
        for n in self.sent_n:
            for st in range(stripes):
                self.stripe_bytes[st] += (n // stripes + (1 if st < n % stripes else 0)) * dgram_len
        self.declines = {}         # (stripe, bucket) -> declines of our offers (interior cap)

    def parent_masks(self):
        """{parent addr: bit mask of the stripes we pull from it}."""
        masks = {}
        for s, parent in enumerate(self.parents):
            if parent is not None:
                masks[parent] = masks.get(parent, 0) | 1 << s
        return masks

    def add_holder(self, addr, cap):
        if addr not in self.holder_set and len(self.holders) < cap:
            self.holders.append(addr)
            self.holder_set.add(addr)

    def remove_holder(self, addr):
        if addr in self.holder_set:
            self.holders.remove(addr)
            self.holder_set.discard(addr)

    def all_keys(self, stripe=None):
        """Every sent ESI (< N_b) in round-robin order: ESI-major, then block."""
        out = []
        for e in range(max(self.sent_n)):
            if stripe is not None and e % self.stripes != stripe:
                continue
            for b in range(self.num_blocks):
                if e < self.sent_n[b]:
                    out.append(b << 8 | e)
        return out

    def verified(self, frame):
        self.frame = frame
        self.regen = [None] * self.num_blocks
        self.keys_rr = self.all_keys()
        self.stripe_keys = [self.all_keys(s) for s in range(self.stripes)]
        self.decoder = None
        self.dgrams = {}
        self.order = []
        self.by_stripe = None

    def sources(self, block):
        sources = self.regen[block]
        if sources is None:
            t = rs.SYMBOL_SIZE
            pos = sum(self.sizes[:block]) * t
            sources = []
            for _ in range(self.sizes[block]):
                sym = self.frame[pos:pos + t]
                if len(sym) < t:
                    sym = sym + bytes(t - len(sym))
                sources.append(sym)
                pos += t
            self.regen[block] = sources
        return sources

    def symbol(self, key):
        """Symbol bytes of ``key`` once verified (source, or a repair symbol computed now)."""
        block, esi = key >> 8, key & 0xFF
        sources = self.sources(block)
        k = len(sources)
        if esi < k:
            return sources[esi]
        coefficients = _COEFFICIENTS.get(k << 8 | esi)
        if coefficients is None:
            coefficients = bytes([rs.gf_inv(esi ^ j) for j in range(k)])
            if len(_COEFFICIENTS) < 8192:
                _COEFFICIENTS[k << 8 | esi] = coefficients
        return rs.combine(sources, coefficients, rs.SYMBOL_SIZE)

    def reset_decoder(self):
        self.decoder = rs.RsDecoder(self.size, rs.SYMBOL_SIZE, self.num_blocks)
        self.blocks_left = self.num_blocks
        self.dgrams = {}
        self.order = []
        self.by_stripe = [[] for _ in range(self.stripes)]
        self.contributors = set()
