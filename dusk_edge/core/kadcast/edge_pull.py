# Theory of operation: the receiving side of the edge mode (docs/edge-broadcast.md), a mixin of
# EdgePeer (edge.py) with no state of its own. _on_symbol takes a SYMBOL only from a holder of the
# content (an offerer), feeds the block's decoder, keeps the datagram and forwards it at once to
# the subscribers of its stripe (cut-through). When every block decodes, _on_decoded rebuilds the
# frame and checks it against the content id: a match is verified (EdgePeer._verified), a mismatch
# blocklists a single source or restarts single-source over the suspects one at a time (_blame).
# Timers (_run_contents): an undecoded content syncs with its parents every sync_ms (_sync: per-hop
# loss recovery), pulls repair from its holders round-robin after stall_ms without progress
# (_repair; random edge peers when it knows no holder) and is dropped after repair_attempts stalls
# in a row or pull_ttl (one repair asks at most repair_ask_percent of a block); a verified one is
# served until content_ttl. A REFUSE ends our asking of that peer: it stops being a parent (no more
# syncs to it) and goes last among the repair sources, so no request/refuse exchange outlives those
# bounds.
from dusk_edge.core.errors import DecodeError
from dusk_edge.core.kadcast import edge_messages as em
from dusk_edge.core.kadcast import rs
from dusk_edge.core.kadcast.edge_messages import CHUNK_LEN
from dusk_edge.core.kadcast.edge_messages import HEADER_END as H
from dusk_edge.core.kadcast.edge_stripes import NEVER_AT as NEVER
from dusk_edge.core.kadcast.rs import ray_id_of


class EdgePull:
    """Symbols in, decode and verify, liars, sync, pull repair and expiry (mixin of EdgePeer)."""

    def _on_symbol(self, data, src, now):
        n = len(data)
        if n < H + rs.CHUNK_HEADER_LEN + 1:
            raise DecodeError("symbol datagram of %d bytes" % n)
        if data[H + 32] != rs.SCHEME_TAG:
            raise DecodeError("not an rs chunk")
        size = data[H + 33] | data[H + 34] << 8 | data[H + 35] << 16 | data[H + 36] << 24
        c = self.contents.get((data[H:H + 32], size))
        if c is None:
            self.stats["edge_unsolicited"] += 1
            return
        block, esi = data[H + 40], data[H + 41]
        if (n - H != CHUNK_LEN or data[H + 37] | data[H + 38] << 8 != rs.SYMBOL_SIZE
                or data[H + 39] != c.num_blocks or block >= c.num_blocks):
            raise DecodeError("rs chunk header does not match the content")
        if c.frame is not None:
            self.stats["edge_symbols_duplicate"] += 1
            return
        if c.suspects is not None and src != c.suspects[0] or src not in c.holder_set:
            self.stats["edge_unsolicited"] += 1
            return
        dec = c.decoder.blocks[block]
        if dec.done is not None or esi in dec.received:
            self.stats["edge_symbols_duplicate"] += 1
            return
        self.stats["edge_symbols_received"] += 1
        c.contributors.add(src)
        dec.add(esi, data[H + rs.CHUNK_HEADER_LEN:])
        c.last_progress = now
        if c.next_repair_at is not None and c.next_repair_at < now + self.edge.stall_ms:
            c.next_repair_at = now + self.edge.stall_ms
            c.repair_attempts = 0
        if esi < c.sent_n[block]:
            key = block << 8 | esi
            dgram = self._sym_prefix + data[H:]
            c.dgrams[key] = dgram
            c.order.append(key)
            c.by_stripe[esi % c.stripes].append(key)
            for sub in c.subs[esi % c.stripes]:
                self._send_symbol(c, sub, key, dgram)
        if dec.done is not None:
            c.blocks_left -= 1
            if c.blocks_left == 0:
                self._on_decoded(c, now)

    def _on_decoded(self, c, now):
        parts = []
        for blk in c.decoder.blocks:
            parts.extend(blk.done)
        frame = b"".join(parts)[:c.size]
        if ray_id_of(frame) == c.cid:
            self._verified(c, frame, now)
            return
        self.stats["edge_mismatches"] += 1
        if c.suspects is not None:
            self._blame(c.suspects.pop(0))
        elif len(c.contributors) == 1:
            for liar in c.contributors:
                self._blame(liar)
        else:  # several sources: try them one at a time, so the liar is caught alone
            c.suspects = [a for a in c.holders if a in c.contributors]
        if c.suspects is not None and not c.suspects:
            c.suspects = None
        c.reset_decoder()
        c.repair_attempts = 0
        c.next_repair_at = now
        self._schedule(now)

    def _blame(self, addr):
        if addr in self.blocked or addr == self.addr:
            return
        self.stats["edge_liars_blocked"] += 1
        if len(self.liars) < 1024:
            self.liars.append(addr)
        self.block_source(addr)
        for c in self.contents.values():
            c.remove_holder(addr)
            for group in (c.announcers, c.suspects or []):
                if addr in group:
                    group.remove(addr)
            for s in range(c.stripes):
                if c.parents[s] == addr:
                    c.parents[s] = None
                if addr in c.subs[s]:
                    c.subs[s].remove(addr)

    def _on_refuse(self, msg, src, now):
        """A refusal proves nothing, but ends our asking: src stops being a parent (no more syncs
        to it; a later offer may re-parent the stripe) and goes last among the repair sources."""
        for c in self.contents.values():
            if c.cid != msg.content_id or c.frame is not None:
                continue
            for s in range(c.live):
                if c.parents[s] == src:
                    c.parents[s] = None
            if src in c.holder_set and len(c.holders) > 1:
                c.holders.remove(src)
                c.holders.append(src)

    def _run_contents(self, now):
        self._wake = NEVER
        for key in list(self.contents):
            c = self.contents[key]
            if c.frame is not None:
                if now >= c.expires_at:
                    del self.contents[key]
                    continue
                self._schedule(c.expires_at)
            elif (now - c.created_at > self.edge.pull_ttl
                  or c.repair_attempts >= self.edge.repair_attempts):
                del self.contents[key]
                self.stats["edge_expired"] += 1
                continue
            elif c.next_repair_at is not None:
                if now >= c.next_repair_at:
                    self._repair(c, now)
                if now >= c.next_sync_at:
                    self._sync(c, now)
                self._schedule(c.next_repair_at)
                self._schedule(c.next_sync_at)
            self._retry_offers(c, now)

    def _repair(self, c, now):
        c.repair_attempts += 1
        c.next_repair_at = now + self.edge.stall_ms
        targets = c.suspects[:1] if c.suspects is not None else c.holders
        if not targets:
            targets = self._fallback_holders(c, now)
            if not targets:
                return
        target = targets[c.repair_turn % len(targets)]
        c.repair_turn += 1
        repairs = []
        pct = self.edge.repair_ask_percent
        for b, blk in enumerate(c.decoder.blocks):
            if blk.done is None and len(repairs) < em.MAX_REQUEST_BLOCKS:
                need = blk.k - len(blk.received)
                ask = need + need // 4 + 2
                if pct:  # an early stall must not pull a whole copy from one holder
                    ask = min(ask, max(2, (blk.k * pct + 99) // 100))
                repairs.append((b, min(255, ask), blk.bitmap()))
        if repairs:
            self.stats["edge_repair_requests_sent"] += 1
            self._send_request(c.cid, c.size, 0, 0, repairs, target)

    def _sync(self, c, now):
        c.next_sync_at = now + self.edge.sync_ms
        if c.suspects is not None:
            return
        masks = c.parent_masks()  # only live stripes get parents
        if not masks:
            return
        repairs = []
        for b, blk in enumerate(c.decoder.blocks):
            if blk.done is None and len(repairs) < em.MAX_REQUEST_BLOCKS:
                repairs.append((b, 255, blk.bitmap()))
        if repairs:
            for addr, mask in masks.items():
                self._send_request(c.cid, c.size, mask, 0, repairs, addr)

    def _fallback_holders(self, c, now):
        """No holder left to ask: any alive edge peer may hold the body by now."""
        alive = [n.addr for n in self.table.alive_nodes(now)
                 if n.addr in self.edge_peers and n.addr not in c.holders]
        k = self.edge.fallback_probes
        picks = alive if len(alive) <= k else self.rng.sample(alive, k)
        for addr in picks:
            c.add_holder(addr, self.edge.max_holders)
        self.stats["edge_fallback_probes"] += len(picks)
        return picks
