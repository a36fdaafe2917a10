# Theory of operation: the requester side of an edge-mode body pull (docs/edge-broadcast.md).
# A Pull exists per claim (content_id, size) heard in an ANNOUNCE. Its holders are peers that
# announced HAVE or were named in a REFUSE hint. plan() cuts the symbols still needed (per rs block
# k - received, plus a loss margin) into disjoint ESI sets, one per usable holder, so several holders
# serve different symbols and no single uplink carries the whole body. Symbols come back as SYMBOL
# datagrams; the RsDecoder (MDS: any k distinct ESIs of a block decode it) rebuilds the frame and the
# caller checks its content id. Each symbol remembers its server so a body that does not match its
# claim blames someone: with one server, that server lied; with several, the pull restarts in
# single-source mode, trying the suspects one at a time, so the liar is caught alone.
from dusk_edge.core.kadcast import edge_messages as em
from dusk_edge.core.kadcast import rs

MAX_HOLDERS = 16


class Pull:
    __slots__ = ("content_id", "size", "summary", "height", "holders", "refused", "decoder",
                 "servers", "created_at", "next_request_at", "last_progress_at", "attempts",
                 "suspects", "first_source", "num_blocks", "sizes", "outstanding", "announcers",
                 "waiting")

    def __init__(self, content_id, size, summary, height, now, first_source):
        self.content_id = content_id
        self.size = size
        self.summary = summary
        self.height = height
        self.holders = []
        self.refused = {}            # addr -> time of the refusal
        self.num_blocks, self.sizes = rs.layout(size)
        self.decoder = rs.RsDecoder(size, rs.SYMBOL_SIZE, self.num_blocks)
        self.servers = {}            # (block, esi) -> addr that sent it
        self.created_at = now
        self.next_request_at = None
        self.last_progress_at = now
        self.attempts = 0
        self.suspects = None         # single-source mode after a mismatch: addrs left to try
        self.first_source = first_source
        self.outstanding = {}        # addr -> [(block, bitmap)] last asked of it
        self.waiting = {}            # addr -> wants: requests to serve once we hold the body
        self.announcers = []         # peers that announced HAVE for exactly this (id, size)

    def add_holder(self, addr):
        if addr not in self.holders and len(self.holders) < MAX_HOLDERS:
            self.holders.append(addr)

    def add_announcer(self, addr):
        if addr not in self.announcers and len(self.announcers) < MAX_HOLDERS:
            self.announcers.append(addr)

    def forget_holder(self, addr):
        for group in (self.holders, self.announcers):
            if addr in group:
                group.remove(addr)
        if self.suspects is not None and addr in self.suspects:
            self.suspects.remove(addr)
        self.outstanding.pop(addr, None)

    def usable_holders(self, now, refuse_ms):
        if self.suspects is not None:
            return self.suspects[:1]
        return [h for h in self.holders if now - self.refused.get(h, -refuse_ms) >= refuse_ms]

    def received_count(self):
        return sum(len(b.received) for b in self.decoder.blocks)

    def add_symbol(self, block, esi, symbol, server):
        """Feed one symbol; returns the frame once every block decodes, else None."""
        key = (block, esi)
        if key in self.servers:
            return None
        self.servers[key] = server
        return self.decoder.add(block, esi, symbol)

    def plan(self, holders, margin_percent):
        """[(holder, [(block, bitmap)])]: the missing symbols plus a margin, split disjointly."""
        if not holders:
            return []
        per_holder = [[] for _ in holders]
        turn = 0
        for block, dec in enumerate(self.decoder.blocks):
            if dec.done is not None:
                continue
            need = dec.k - len(dec.received)
            ask = need + (need * margin_percent + 99) // 100 + 1
            split = [[] for _ in holders]
            for esi in range(256):
                if ask <= 0:
                    break
                if esi not in dec.received:
                    split[turn % len(holders)].append(esi)
                    turn += 1
                    ask -= 1
            for i, esis in enumerate(split):
                if esis:
                    per_holder[i].append((block, em.bitmap_of(esis)))
        return [(h, wants) for h, wants in zip(holders, per_holder) if wants]

    def split_wants(self, wants, holders):
        """The not yet received ESIs of ``wants`` split disjointly over ``holders``."""
        per_holder = [[] for _ in holders]
        turn = 0
        for block, bitmap in wants:
            received = self.decoder.blocks[block].received
            split = [[] for _ in holders]
            for esi in em.esis_of(bitmap):
                if esi not in received:
                    split[turn % len(holders)].append(esi)
                    turn += 1
            for i, esis in enumerate(split):
                if esis:
                    per_holder[i].append((block, em.bitmap_of(esis)))
        return [(h, w) for h, w in zip(holders, per_holder) if w]

    def restart_single_source(self):
        """After a mismatch: forget every symbol and try the servers one at a time."""
        suspects = []
        for addr in self.servers.values():
            if addr not in suspects:
                suspects.append(addr)
        self.decoder = rs.RsDecoder(self.size, rs.SYMBOL_SIZE, self.num_blocks)
        self.servers = {}
        self.suspects = suspects
        return suspects

    def reset_decoder(self):
        self.decoder = rs.RsDecoder(self.size, rs.SYMBOL_SIZE, self.num_blocks)
        self.servers = {}
        if not self.suspects:
            self.suspects = None

    def sole_server(self):
        """The only peer that served symbols, or None when several did."""
        sole = None
        for addr in self.servers.values():
            if sole is None:
                sole = addr
            elif addr != sole:
                return None
        return sole
