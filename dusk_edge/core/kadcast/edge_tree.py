# Theory of operation: the tree side of the edge mode's stripe trees (docs/edge-broadcast.md), a
# mixin of EdgePeer (edge.py) with no state of its own. An ANNOUNCE offers (stripe, height) pairs;
# _on_announce acknowledges every offered stripe and wants a live stripe only from its first
# offerer (its parent; later offerers are kept as repair holders). Accepting stripe s at height h
# (_extend) offers it at once, before any symbol arrives, to one delegate per non-empty bucket
# i < h (beta = 1, a random pick per (stripe, bucket), preferring edge peers, so the trees differ);
# offers to one delegate travel together in one ANNOUNCE. A relay (role RELAY) roots the trees at
# random edge peers (_start_roots, role ROOT, height 128). Unacknowledged offers are retried with
# backoff (_retry_offers) and, after offer_attempts, handed to another member of the bucket (another
# edge peer for ROOT; one new relay takes every stripe of a dead relay). Stripes >= Content.live
# carry no ESI: no tree, no offer, no want. As-specified delegates are remembered in c.legacy and
# get Kadcast FEC chunks once the body is verified.
# Interior cap (_take_height): a node projects its upload, sum over accepted (stripe, height) of
# non-empty buckets below the height x the stripe's sent bytes, and declines in its REQUEST a TREE
# height that would push it above interior_cap x size (it still wants the stripe, as a leaf). The
# parent re-offers that (stripe, bucket) to another bucket member (_on_declined); after
# forced_after declines it offers ROLE_FORCED, which only the originator and the relay (loaded
# with the cap from the start: they stream whole copies) decline. ROOT offers are never declined.
from dusk_edge.core.kadcast import edge_messages as em
from dusk_edge.core.kadcast.edge_messages import RELAY_HEIGHT
from dusk_edge.core.kadcast.edge_stripes import Offer

MAX_CLAIMS = 2                    # sizes tracked per content id (one honest, one lie)


def _mask(stripes):
    out = 0
    for s in stripes:
        out |= 1 << s
    return out


class EdgeTree:
    """Offers, acknowledgements and delegate choice (mixin of EdgePeer)."""

    def _new_buckets(self, c, s, h):
        """[(i, members)] of the non-empty buckets that height h adds to our height for stripe s."""
        low = c.heights[s] if c.heights[s] > 0 else 0
        return [(i, b.nodes) for i, b in self.table.buckets.items() if low <= i < h and b.nodes]

    def _extend(self, c, s, h, now):
        """Our height for stripe s rises to h: offer the buckets we did not cover yet."""
        if h <= c.heights[s] or s >= c.live:  # an empty stripe has no tree
            return
        buckets = self._new_buckets(c, s, h)
        c.heights[s] = h
        for i, nodes in buckets:
            self._delegate(c, s, i, nodes, now)

    def _delegate(self, c, s, i, nodes, now, role=em.ROLE_TREE, decliner=None):
        tried = c.tried.get((s, i), ())
        parent = c.parents[s]
        edge, legacy = [], []
        for n in nodes:
            a = n.addr
            if a in tried or a == parent or a in self.blocked:
                continue
            (edge if a in self.edge_peers else legacy).append(a)
        if not edge and decliner is not None:  # every member tried: force one of them
            role = em.ROLE_FORCED
            edge = [n.addr for n in nodes if n.addr in self.edge_peers and n.addr != decliner
                    and n.addr != parent and n.addr not in self.blocked] or [decliner]
        if edge:
            self._offer(c, self.rng.choice(edge), s, i, role, now)
        elif legacy and not tried:
            addr = self.rng.choice(legacy)
            if c.legacy.get(addr, -1) < i and len(c.legacy) < 128:
                c.legacy[addr] = i
                if c.frame is not None:
                    self._send_legacy(c, addr, i)

    def _start_roots(self, c, exclude, now):
        """Root the S stripe trees at S distinct random edge peers (fewer: some get several)."""
        pool = [n.addr for n in self.table.alive_nodes(now)
                if n.addr in self.edge_peers and n.addr != exclude and n.addr not in self.blocked]
        if not pool:  # nobody to root at: be every tree's root ourselves
            for s in range(c.live):
                self._extend(c, s, RELAY_HEIGHT, now)
            return
        picks = self.rng.sample(pool, c.live) if len(pool) >= c.live else pool
        for s in range(c.live):
            self._offer(c, picks[s % len(picks)], s, RELAY_HEIGHT, em.ROLE_ROOT, now)

    def _offer(self, c, addr, s, h, role, now):
        key = (addr, role)
        off = c.offers.get(key)
        if off is None:
            off = c.offers[key] = Offer(addr, role, now)
        off.pairs[s] = h
        off.next_at = now
        self._fresh.append(c)

    def _flush_offers(self, now):
        if not self._fresh:
            return
        fresh, self._fresh = self._fresh, []
        seen = set()
        for c in fresh:
            if id(c) in seen:
                continue
            seen.add(id(c))
            for off in c.offers.values():
                if off.next_at <= now and off.pairs:
                    self._send_offer(c, off, now)

    def _send_offer(self, c, off, now):
        off.attempts += 1
        rtt = self._rtt.get(off.addr, 0)
        off.next_at = now + max(self.edge.offer_retry_ms, 2 * rtt) * (1 << (off.attempts - 1))
        self._schedule(off.next_at)
        msg = em.EdgeMessage(em.ANNOUNCE, self._header(), c.cid, c.size, c.stripes, off.role,
                             sorted(off.pairs.items()), c.summary[:self.edge.summary_len])
        self._out.append((em.encode_edge_message(msg), off.addr))
        self.stats["edge_announces_sent"] += 1

    def _retry_offers(self, c, now):
        for key in list(c.offers):
            off = c.offers[key]
            if off.next_at > now:
                self._schedule(off.next_at)
                continue
            if off.attempts < self.edge.offer_attempts:
                self.stats["edge_offers_retried"] += 1
                self._send_offer(c, off, now)
                continue
            del c.offers[key]  # dead or unreachable: give its stripes to someone else
            self.stats["edge_delegates_replaced"] += 1
            relay = None
            for s, h in off.pairs.items():
                tried = c.tried.setdefault((s, h), [])
                if len(tried) < 8:
                    tried.append(off.addr)
                if off.role == em.ROLE_TREE or off.role == em.ROLE_FORCED:
                    bucket = self.table.buckets.get(h)
                    if bucket is not None and bucket.nodes:
                        self._delegate(c, s, h, bucket.nodes, now, off.role)
                else:
                    pool = [n.addr for n in self.table.alive_nodes(now) if n.addr in self.edge_peers
                            and n.addr not in tried and n.addr not in self.blocked]
                    if pool and (relay is None or off.role != em.ROLE_RELAY):
                        relay = self.rng.choice(pool)  # one new relay takes every stripe
                    if relay is not None:
                        self._offer(c, relay, s, h, off.role, now)
        self._flush_offers(now)

    def _on_announce(self, msg, src, now):
        cid, size = msg.content_id, msg.size
        ack = _mask(s for s, _ in msg.offers)
        c = self.contents.get((cid, size))
        if c is None:
            claims = sum(1 for k in self.contents if k[0] == cid)
            if self.rays.is_processed(cid) and not claims or claims >= MAX_CLAIMS:
                self._send_request(cid, size, 0, ack, (), src)  # we have it (or too many claims)
                return
            c = self._new_content(cid, size, msg.stripes, now)
            if c is None:
                return
            c.summary = msg.summary
            c.first_source = src
            c.next_repair_at = now + 2 * self.edge.stall_ms
            c.next_sync_at = now + self.edge.sync_ms
            self._schedule(c.next_repair_at)
        elif msg.stripes != c.stripes:
            return
        c.add_holder(src, self.edge.max_holders)
        if src not in c.announcers and len(c.announcers) < self.edge.max_holders:
            c.announcers.append(src)
        want = decline = 0
        role = msg.role
        for s, h in msg.offers:
            if role == em.ROLE_ROOT or role == em.ROLE_RELAY:
                h = RELAY_HEIGHT
            parent = c.parents[s]
            if (c.frame is None and s < c.live and (parent is None or parent == src)
                    and src in c.holder_set):
                c.parents[s] = src
                want |= 1 << s
            if role == em.ROLE_RELAY or h <= c.heights[s] or s >= c.live:
                continue
            if self._take_height(c, s, h, role):
                self._extend(c, s, h, now)
            else:
                decline |= 1 << s
        if role == em.ROLE_RELAY and not c.rooted:
            c.rooted = True
            c.load += self._cap_bytes(c)  # it streams to the roots: no interior role either
            self._start_roots(c, src, now)
        self._send_request(cid, size, want, ack, (), src, decline)

    # ---- interior cap ------------------------------------------------------------------------
    def _cap_bytes(self, c):
        return int(self.edge.interior_cap * c.size)

    def _take_height(self, c, s, h, role):
        """Accept stripe s at height h (adding its projected upload to c.load) or decline it:
        a TREE height beyond the cap; a FORCED one only if we started the trees."""
        cap = self._cap_bytes(c)
        extra = len(self._new_buckets(c, s, h)) * c.stripe_bytes[s]
        if cap and (role == em.ROLE_TREE and c.load + extra > cap
                    or role == em.ROLE_FORCED and c.load >= cap and (c.origin or c.rooted)):
            return False
        c.load += extra
        return True

    def _on_declined(self, c, src, mask, now):
        """``src`` declined these tree heights (it stays a leaf): offer each (stripe, bucket) to
        another member of the bucket, forced after forced_after declines; a bounded number of
        re-offers, so decliners cannot keep us busy."""
        forced_after = self.edge.forced_after
        for role in (em.ROLE_TREE, em.ROLE_FORCED):  # ROOT and RELAY offers cannot be declined
            off = c.offers.get((src, role))
            if off is None:
                continue
            for s in em.stripes_of(mask):
                h = off.pairs.pop(s, None)
                if h is None:
                    continue
                key = (s, h)
                n = c.declines[key] = c.declines.get(key, 0) + 1
                tried = c.tried.setdefault(key, [])
                if len(tried) < 8:
                    tried.append(src)
                bucket = self.table.buckets.get(h)
                if n > 2 * forced_after or bucket is None or not bucket.nodes:
                    continue
                new_role = em.ROLE_FORCED if n >= forced_after else em.ROLE_TREE
                self._delegate(c, s, h, bucket.nodes, now, new_role, src)
            if not off.pairs:
                del c.offers[(src, role)]

    def _send_request(self, cid, size, want, ack, repairs, addr, decline=0):
        msg = em.EdgeMessage(em.REQUEST, self._header(), cid, size, want=want, ack=ack,
                             repairs=repairs, decline=decline)
        self._out.append((em.encode_edge_message(msg), addr))
        self.stats["edge_requests_sent"] += 1
