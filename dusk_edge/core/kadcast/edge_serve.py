# Theory of operation: the serving side of the edge mode (docs/edge-broadcast.md), a mixin of
# EdgePeer (edge.py) with no state of its own. A REQUEST that wants stripes subscribes the sender
# (a child) to them: every symbol of those stripes we hold is queued for it (_send_keys), and each
# one we obtain later the moment we obtain it (_send_symbol, cut-through), at most once per
# (child, symbol). A REQUEST with per-block bitmaps is either a child's sync (with ``want``: resend
# what we released to it over a round trip ago and it still lacks, _resend_lost) or a pull repair
# (without: never-sent reserve ESIs first once verified, then anything missing from its bitmap,
# _serve_repair). Every SYMBOL goes through _upload, which enforces the per-content budget and the
# per-peer cap (datagram bytes, in units of one full sent set, so a content of any size can be
# served budget_copies times) and queues it; _release hands the queue to the driver FIFO, paced at
# uplink_bps in pace_slice_ms slices, dropping and refunding symbols for children that unsubscribed.
# A request we cannot serve at all is answered REFUSE (busy / not held); REQUESTs per peer are
# token-bucket limited.
from dusk_edge.core.kadcast import edge_messages as em
from dusk_edge.core.kadcast.edge_messages import SYMBOL_DGRAM_LEN as DGRAM_LEN
from dusk_edge.core.kadcast.edge_stripes import NEVER_AT as NEVER
from dusk_edge.core.kadcast.peer import spend_token


class EdgeServe:
    """Subscriptions, resends, repair answers, upload limits and pacing (mixin of EdgePeer)."""

    def _take_request_token(self, src, now):
        e = self.edge
        entry = self._req_tokens.get(src)
        if entry is None:
            if len(self._req_tokens) >= self.config.max_rate_sources:
                self._req_tokens = {}
            entry = self._req_tokens[src] = [e.request_burst, now]
        return spend_token(entry, now, e.request_rate_per_s, e.request_burst)

    def _on_request(self, msg, src, now):
        if not self._take_request_token(src, now):
            self.stats["edge_requests_limited"] += 1
            return
        c = self.contents.get((msg.content_id, msg.size))
        if c is None:
            if msg.want or msg.repairs:
                self._refuse(msg.content_id, em.REFUSE_NOT_HELD, src)
            return
        if msg.decline:
            self._on_declined(c, src, msg.decline, now)
        if msg.ack:
            for s in em.stripes_of(msg.ack & ~msg.want):  # acked, not wanted: (no longer) a child
                if s < c.stripes and src in c.subs[s]:
                    c.subs[s].remove(src)
            for role in (em.ROLE_TREE, em.ROLE_ROOT, em.ROLE_RELAY, em.ROLE_FORCED):
                off = c.offers.get((src, role))
                if off is None:
                    continue
                for s in em.stripes_of(msg.ack):
                    off.pairs.pop(s, None)
                if not off.pairs:
                    del c.offers[(src, role)]
        want = msg.want & ((1 << c.live) - 1)
        if want or msg.repairs:
            if c.uploaded + DGRAM_LEN > c.budget or c.per_peer.get(src, 0) + DGRAM_LEN > c.peer_cap:
                self._refuse(c.cid, em.REFUSE_BUSY, src)
                return
        if want:
            mask = 0
            for s in em.stripes_of(want):
                subs = c.subs[s]
                if src in subs:
                    mask |= 1 << s
                elif len(subs) < self.edge.max_subscribers:
                    subs.append(src)
                    mask |= 1 << s
            if mask:
                self._send_keys(c, src, mask)
        if msg.repairs and want:
            self._resend_lost(c, src, want, msg.repairs, now)
        elif msg.repairs:
            self._serve_repair(c, src, msg.repairs)

    def _sent_to(self, c, addr):
        """What we queued or released to ``addr`` ({key: released at}); None when full."""
        sent = c.sent.get(addr)
        if sent is None and len(c.sent) < c.stripes * self.edge.max_subscribers:
            sent = c.sent[addr] = {}
        return sent

    def _send_symbol(self, c, addr, key, dgram):
        sent = self._sent_to(c, addr)
        if sent is None or key in sent:
            return
        if self._upload(c, addr, key, dgram, (key & 0xFF) % c.stripes):
            sent[key] = 0

    def _upload(self, c, addr, key, dgram, stripe=-1):
        n = len(dgram)
        if c.uploaded + n > c.budget:
            self.stats["edge_budget_dropped"] += 1
            return False
        used = c.per_peer.get(addr, 0)
        if used + n > c.peer_cap:
            self.stats["edge_peer_cap_dropped"] += 1
            return False
        if len(self._queue) >= self.edge.max_queue:
            self.stats["edge_queue_dropped"] += 1
            return False
        c.per_peer[addr] = used + n
        c.uploaded += n
        if self._pace_at == NEVER:
            self._pace_at = self._now
        self._queue.append((dgram, addr, c, stripe, key))
        return True

    def _release(self, now):
        """Hand the next pace_slice_ms worth of queued symbols to the driver (FIFO); symbols for a
        child that unsubscribed meanwhile (it decoded) are dropped and refunded."""
        q = self._queue
        rate = self.edge.uplink_bps
        allowance = rate * self.edge.pace_slice_ms // 8000
        used = 0
        out = self._out
        sent = released = 0
        while q and used < allowance:
            dgram, addr, c, stripe, key = q.popleft()
            n = len(dgram)
            if stripe >= 0 and addr not in c.subs[stripe]:
                c.uploaded -= n
                c.per_peer[addr] = c.per_peer.get(addr, n) - n
                self.stats["edge_unsubscribed_dropped"] += 1
                continue
            out.append((dgram, addr))
            record = c.sent.get(addr)
            if record is not None and key in record:
                record[key] = now  # released: a retransmission may follow after a round trip
            used += n
            sent += n
            released += 1
        self.stats["edge_symbols_sent"] += released
        self.stats["edge_symbol_bytes_sent"] += sent
        self._pace_at = now + max(1, used * 8000 // rate) if q else NEVER

    def _dgram(self, c, key):
        dgram = c.dgrams.get(key)  # received (kept until verified), else regenerated now
        if dgram is None:
            dgram = self._sym_prefix + c.head + bytes((key >> 8, key & 0xFF)) + c.symbol(key)
        return dgram

    def _send_keys(self, c, addr, mask):
        """Every symbol of the stripes in ``mask`` we hold, in order, that ``addr`` lacks."""
        sent = self._sent_to(c, addr)
        if sent is None:
            return
        stripes = c.stripes
        if mask & (mask - 1) == 0:  # one stripe: walk its own list
            s = 0
            while not mask >> s & 1:
                s += 1
            keys = c.stripe_keys[s] if c.frame is not None else c.by_stripe[s]
        else:
            keys = c.keys_rr if c.frame is not None else c.order
        for key in keys:
            if key in sent or not mask >> ((key & 0xFF) % stripes) & 1:
                continue
            if not self._upload(c, addr, key, self._dgram(c, key), (key & 0xFF) % stripes):
                return
            sent[key] = 0

    def _resend_lost(self, c, src, want, repairs, now):
        """A child's sync: symbols of its stripes we released to it over a round trip ago that it
        still lacks (lost on the way) go again, so each hop recovers its own losses."""
        sent = c.sent.get(src)
        if sent is None:
            return
        grace = 2 * self._rtt.get(src, 150) + 50
        bitmaps = {}
        for block, need, bitmap in repairs:
            bitmaps[block] = bitmap
        stripes = c.stripes
        for s in em.stripes_of(want):
            if s >= stripes:
                break
            for key in c.by_stripe[s] if c.frame is None else c.stripe_keys[s]:
                t = sent.get(key)
                bitmap = bitmaps.get(key >> 8)
                if (not t or bitmap is None or now - t < grace
                        or bitmap[(key & 0xFF) >> 3] >> (key & 7) & 1):
                    continue
                if not self._upload(c, src, key, self._dgram(c, key), s):
                    return
                sent[key] = 0
                self.stats["edge_repair_symbols_served"] += 1

    def _serve_repair(self, c, src, repairs):
        served = 0
        for block, need, bitmap in repairs:
            if block >= c.num_blocks:
                continue
            keys = []
            if c.frame is not None:
                esi = c.next_reserve[block]
                while len(keys) < need and esi <= 255:
                    keys.append(block << 8 | esi)
                    esi += 1
                c.next_reserve[block] = esi
                candidates = range(c.sent_n[block])
            else:  # what we hold, less what is already on its way to the requester
                sent = c.sent.get(src, ())
                candidates = [k & 0xFF for k in c.order if k >> 8 == block and k not in sent]
            for esi in candidates:
                if len(keys) >= need:
                    break
                if not bitmap[esi >> 3] >> (esi & 7) & 1:
                    keys.append(block << 8 | esi)
            for key in keys:
                if not self._upload(c, src, key, self._dgram(c, key)):
                    return
                served += 1
        self.stats["edge_repair_symbols_served"] += served

    def _refuse(self, cid, reason, src):
        if reason == em.REFUSE_BUSY:
            self.stats["edge_refused_busy"] += 1
        else:
            self.stats["edge_refused_not_held"] += 1
        msg = em.EdgeMessage(em.REFUSE, self._header(), cid, reason=reason)
        self._out.append((em.encode_edge_message(msg), src))
