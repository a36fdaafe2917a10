"""The edge mode's large-message path in the transfer-level model: stripe trees (issue 12, session 2
design; docs/edge-broadcast.md), at 10,000 nodes with dusk_edge/sim/broadcast_model.py's Topology.

What is modelled, per node: which ESIs of which RS block it holds (exact: a block decodes at k_b
distinct ESIs), its stripe parents, heights, subscribers and known holders, and the SYMBOL and
control bytes it sends. Granularity:
- data moves in transfers of up to ``batch`` symbols; a node forwards what it newly obtained at once
  to the subscribers of that stripe (cut-through); each datagram of a transfer is lost
  independently;
- ANNOUNCE (offers), REQUEST (wants + acks) and repair requests are single small datagrams, lost
  like any other, offers retried every max(offer_retry_min_ms, 2 RTT) from when they left the
  uplink, the delegate replaced after ``offer_attempts``;
- one FIFO uplink per node (busy-until) serialises everything it sends, control datagrams included;
- after the whole body decodes a node regenerates every ESI < N_b and sends each subscriber the
  stripe symbols it had not sent; a node without progress for ``stall_ms`` asks its holders round
  robin for the ESIs its bitmap lacks (reserve ESIs >= N_b first from a decoded holder);
- budgets: a node sends at most budget_copies x (datagram bytes of one full sent set: every ESI
  < N_b of every block, as edge_stripes.sent_set_bytes) of SYMBOL bytes per content and at most
  peer_copies x that to one peer; a request beyond them is not served (the child repairs elsewhere).
"""
import heapq
import math

SYMBOL = 1296
DATAGRAM = 1364                   # SYMBOL datagram: type + header + rs chunk header + symbol
CONTROL = 72                      # type + header + content id + size (+ per-entry bytes below)
RELAY, ROOT, TREE, FORCED = 2, 1, 0, 3   # offer roles (FORCED: a tree offer not to be declined)


class StripeConfig:
    """Defaults: the design as measured in bench/results/broadcast.json. StripeConfig.spec() is the
    design as first written (docs: issue 12 session 2); the knobs that differ are marked *."""

    def __init__(self, stripes=16, repair_percent=30, batch=8, budget_copies=3.0, peer_copies=1.5,
                 offer_attempts=5, offer_retry_min_ms=150, stall_ms=400, repair_attempts=40,
                 pull_ttl_ms=60000, delegate_sample=1, max_holders=16, control_first=True, arq=3,
                 interior_cap=2.0, done=True, carry_ms=150, repair_ask_percent=25):
        self.stripes = stripes
        self.repair_percent = repair_percent
        self.batch = batch                   # model: symbols per transfer at most
        self.budget_copies = budget_copies
        self.peer_copies = peer_copies
        self.offer_attempts = offer_attempts  # * 5 (spec 3): fewer replaced delegates at 12% loss
        self.offer_retry_min_ms = offer_retry_min_ms
        self.stall_ms = stall_ms
        self.repair_attempts = repair_attempts
        self.pull_ttl_ms = pull_ttl_ms
        self.delegate_sample = delegate_sample   # 1: uniform member; m: lowest delay of m random
        self.max_holders = max_holders
        self.control_first = control_first   # * control datagrams skip the queue of symbols
        self.arq = arq                       # * per-hop NACK rounds for lost symbols (spec 0)
        self.interior_cap = interior_cap     # * decline tree heights beyond this projected upload
        self.done = done                     # * a decoded node tells its parents to stop sending
        self.repair_ask_percent = repair_ask_percent   # * one repair asks <= this % of k_b a block
        self.carry_ms = carry_ms             # model: stray symbols wait this long for company

    @classmethod
    def spec(cls, **kw):
        base = dict(offer_attempts=3, control_first=False, arq=0, interior_cap=0.0, done=False,
                    repair_ask_percent=0)
        base.update(kw)
        return cls(**base)


class Node:
    __slots__ = ("parent", "height", "subs", "holders", "have", "cnt", "ndone", "decoded",
                 "first_t", "progress_t", "rr", "attempts", "gave_up", "load")

    def __init__(self, stripes, blocks, t):
        self.parent = [-1] * stripes
        self.height = [-1] * stripes
        self.subs = [[] for _ in range(stripes)]
        self.holders = []
        self.have = bytearray(blocks * 256)
        self.cnt = [0] * blocks
        self.ndone = 0
        self.decoded = False
        self.first_t = t
        self.progress_t = t
        self.rr = 0
        self.attempts = 0
        self.gave_up = False
        self.load = 0.0


class StripeResult:
    def __init__(self, n):
        self.arrival = [None] * n
        self.sym_bytes = [0] * n
        self.ctl_bytes = [0] * n
        self.first_offer = [None] * n     # (time, sender) of the first offer a node got
        self.relay_sender = [-1] * n      # sender of a RELAY offer
        self.root_sender = [-1] * n       # sender of a ROOT offer
        self.relay = None
        self.roots = []
        self.replaced = 0                 # delegates replaced after offer_attempts
        self.repair_requests = 0
        self.refused = 0                  # requests not served (budget)


class StripeSim:
    """One large broadcast of ``size`` bytes from ``origin`` over stripe trees."""

    def __init__(self, topo, rng, loss, uplink_bps, origin_uplink_bps=None, config=None):
        self.topo = topo
        self.rng = rng
        self.loss = loss
        self.uplink = uplink_bps
        self.origin_uplink = origin_uplink_bps or uplink_bps
        self.cfg = config or StripeConfig()
        self.heap = []
        self.dcache = {}
        self.seq = 0
        self.busy = [0.0] * topo.n

    # ---- plumbing ----------------------------------------------------------------------------
    def push(self, t, kind, args):
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, args))

    def depart(self, src, nbytes, now, control=False):
        """Serialise nbytes on src's uplink (FIFO); returns when the last bit left. With
        control_first a control datagram leaves at once (ahead of queued symbols) and only
        pushes the queue back by its own transmission time."""
        rate = self.origin_uplink if src == self.origin else self.uplink
        tx = nbytes * 8000.0 / rate
        start = self.busy[src]
        if start < now:
            start = now
        self.busy[src] = end = start + tx
        if control and self.cfg.control_first:
            return now + tx
        return end

    def control(self, src, dst, nbytes, now, kind, args):
        """Send one small datagram; returns its departure time."""
        self.res.ctl_bytes[src] += nbytes
        end = self.depart(src, nbytes, now, True)
        if self.rng.random() >= self.loss:
            self.push(end + self.delay(src, dst), kind, args)
        return end

    def delay(self, a, b):
        key = (a, b)
        d = self.dcache.get(key)
        if d is None:
            d = self.dcache[key] = self.topo.delay(a, b)
        return d

    def node(self, v, t):
        st = self.nodes[v]
        if st is None:
            st = self.nodes[v] = Node(self.cfg.stripes, self.Z, t)
            self.push(t + self.cfg.stall_ms, "stall", (v,))
        return st

    def stripe_of(self, sym):
        return (sym & 255) % self.cfg.stripes

    # ---- run -----------------------------------------------------------------------------------
    def run(self, size, origin, relay=None):
        cfg = self.cfg
        self.origin = origin
        n = self.topo.n
        kt = -(-size // SYMBOL)
        self.Z = z = -(-kt // 128)
        self.ks = [kt // z + (1 if b < kt % z else 0) for b in range(z)]
        self.nb = [min(256, k + max(2, -(-k * cfg.repair_percent // 100))) for k in self.ks]
        order = [b * 256 + e for e in range(max(self.nb)) for b in range(z) if e < self.nb[b]]
        self.pos = {sym: i for i, sym in enumerate(order)}
        self.stripe_syms = [[sym for sym in order if self.stripe_of(sym) == s]
                            for s in range(cfg.stripes)]
        self.stripe_copies = len(order) * DATAGRAM / cfg.stripes / size
        unit = len(order) * DATAGRAM  # one full sent set, the peer's budget unit (edge_stripes)
        self.budget = int(cfg.budget_copies * unit)
        self.peer_cap = int(cfg.peer_copies * unit)
        self.peer_sent = {}
        self.pending = {}
        self.started = set()
        self.declines = {}
        self.dropped = set()
        self.carry = {}
        self.nodes = [None] * n
        self.res = res = StripeResult(n)
        st = self.nodes[origin] = Node(cfg.stripes, z, 0.0)
        st.decoded = True
        st.load = cfg.interior_cap or 0.0   # it streams to the relay (roots): no interior tree role
        for sym in order:
            st.have[sym] = 1
        res.arrival[origin] = 0.0
        if relay is None:
            self.start_trees(origin, 0.0)
        else:
            res.relay = relay
            self.offer(origin, relay, [(s, 128) for s in range(cfg.stripes)], RELAY, 0.0, 0)
        handlers = {"data": self.on_data, "offer": self.on_offer, "req": self.on_request,
                    "otimer": self.on_offer_timer, "done": self.on_done, "flush": self.on_flush,
                    "stall": self.on_stall, "repair": self.on_repair}
        heap = self.heap
        pop = heapq.heappop
        while heap:
            t, _, kind, args = pop(heap)
            handlers[kind](t, *args)
        return res

    # ---- offers --------------------------------------------------------------------------------
    def start_trees(self, v, t):
        """Tree origin: stripe s to a distinct random peer Q_s with role ROOT (height 128)."""
        s_count = self.cfg.stripes
        self.started.add(v)
        peers = self.rng.sample(range(self.topo.n), min(self.topo.n, s_count + 1))
        peers = [u for u in peers if u != v][:s_count]
        groups = {}
        for s in range(s_count):
            groups.setdefault(peers[s % len(peers)], []).append((s, 128))
        for q, pairs in groups.items():
            self.res.roots.append(q)
            self.offer(v, q, pairs, ROOT, t, 0)

    def delegate(self, v, lo, hi, exclude=()):
        m = self.cfg.delegate_sample
        if m <= 1 or hi - lo <= 1:
            for _ in range(4):
                u = self.rng.randrange(lo, hi)
                if u not in exclude:
                    return u
            return None
        cand = [u for u in (self.rng.sample(range(lo, hi), min(m, hi - lo))) if u not in exclude]
        if not cand:
            return None
        return min(cand, key=lambda u: self.topo.delay(v, u))

    def forward_offers(self, v, raised, t):
        """raised: [(stripe, old height, new height)]; offer each stripe to one delegate per
        non-empty bucket in [old, new), grouped per delegate."""
        groups = {}
        for s, old, new in raised:
            for i, lo, hi in self.topo.buckets(v):
                if old <= i < new:
                    u = self.delegate(v, lo, hi)
                    if u is not None:
                        groups.setdefault(u, []).append((s, i))
        for u, pairs in groups.items():
            self.offer(v, u, pairs, TREE, t, 0)

    def offer(self, p, x, pairs, role, t, attempt):
        pend = self.pending.setdefault((p, x), {})
        for s, h in pairs:
            if pend.get(s, (-1,))[0] < h:
                pend[s] = (h, role)
        end = self.control(p, x, CONTROL + 3 * len(pairs), t, "offer", (p, x, pairs, role))
        retry = max(self.cfg.offer_retry_min_ms, 4 * self.topo.delay(p, x))   # 2 x RTT
        self.push(end + retry, "otimer", (p, x, pairs, role, attempt))

    def on_offer_timer(self, t, p, x, pairs, role, attempt):
        pend = self.pending.get((p, x))
        if not pend:
            return
        left = [(s, h) for s, h in pairs if pend.get(s, (None,))[0] == h]
        if not left:
            return
        if attempt + 1 < self.cfg.offer_attempts:
            self.offer(p, x, left, role, t, attempt + 1)
            return
        for s, _ in left:
            del pend[s]
        self.res.replaced += 1
        if role in (TREE, FORCED):
            self.redelegate(p, x, left, t)
        else:  # ROOT or RELAY: another random peer
            u = x
            while u == x or u == p:
                u = self.rng.randrange(self.topo.n)
            if role == RELAY:
                self.res.relay = u
            self.offer(p, u, left, role, t, 0)

    def redelegate(self, p, x, pairs, t, declined=False):
        groups = {}
        for s, h in pairs:
            role = TREE
            if declined:
                key = (p, s, h)
                self.declines[key] = count = self.declines.get(key, 0) + 1
                if count >= 3:
                    role = FORCED
            rng_ = [(lo, hi) for i, lo, hi in self.topo.buckets(p) if i == h]
            u = self.delegate(p, rng_[0][0], rng_[0][1], (x,)) if rng_ else None
            if u is not None:
                groups.setdefault((u, role), []).append((s, h))
        for (u, role), prs in groups.items():
            self.offer(p, u, prs, role, t, 0)

    def on_offer(self, t, p, x, pairs, role):
        res = self.res
        if res.first_offer[x] is None:
            res.first_offer[x] = (t, p)
        if role == RELAY and res.relay_sender[x] < 0:
            res.relay_sender[x] = p
        elif role == ROOT and res.root_sender[x] < 0:
            res.root_sender[x] = p
        st = self.node(x, t)
        if p not in st.holders and len(st.holders) < self.cfg.max_holders:
            st.holders.append(p)
        wanted = []
        raised = []
        declined = []
        cap = self.cfg.interior_cap
        for s, h in pairs:
            if not st.decoded and (st.parent[s] < 0 or st.parent[s] == p):
                st.parent[s] = p
                wanted.append(s)
            if role != RELAY and h > st.height[s]:
                if cap and (role == TREE and st.load + self.extra_load(x, st.height[s], h) > cap
                            or role == FORCED and st.load >= cap and x in self.started):
                    declined.append((s, h))
                    continue
                if cap:
                    st.load += self.extra_load(x, st.height[s], h)
                raised.append((s, max(st.height[s], 0), h))
                st.height[s] = h
        self.control(x, p, CONTROL + 4, t, "req", (x, p, wanted, [s for s, _ in pairs], declined))
        if raised:
            self.forward_offers(x, raised, t)
        if role == RELAY and x not in self.started:
            st.load += self.cfg.interior_cap   # the relay streams to the roots: no tree role either
            self.start_trees(x, t)

    def extra_load(self, v, old, new):
        """Projected SYMBOL copies v uploads for one stripe's buckets in [old, new)."""
        kids = sum(1 for i, _, _ in self.topo.buckets(v) if old <= i < new)
        return kids * self.stripe_copies

    def on_request(self, t, x, p, wanted, acked, declined):
        pend = self.pending.get((p, x))
        if pend:
            for s in acked:
                pend.pop(s, None)
        if declined:   # x keeps the stripe as a leaf: another member of the bucket forwards
            self.redelegate(p, x, declined, t, True)
        st = self.nodes[p]
        new = []
        for s in wanted:
            if x in st.subs[s]:
                continue
            if self.res.sym_bytes[p] >= self.budget:
                self.res.refused += 1
                continue
            st.subs[s].append(x)
            if st.decoded:
                new.extend(self.stripe_syms[s])
            else:
                have = st.have
                new.extend(sym for sym in self.stripe_syms[s] if have[sym])
        if new:
            if len(wanted) > 1:
                new.sort(key=self.pos.__getitem__)
            self.send_data(p, x, new, t)

    # ---- data ----------------------------------------------------------------------------------
    def send_data(self, p, x, syms, t, attempt=0, one_stripe=False, future=False):
        """Queue syms from p to x at time t. future: a NACK resend; t is when the NACK reaches p
        (the model handles it without an event of its own)."""
        res = self.res
        key = (p, x)
        if key in self.dropped:
            return
        sent = self.peer_sent.get(key, 0)
        room = self.budget - res.sym_bytes[p]
        if not attempt:   # NACK resends count against the node budget only
            room = min(room, self.peer_cap - sent)
        count = min(len(syms), max(0, room) // DATAGRAM)
        if count <= 0:
            return
        if count < len(syms):
            syms = syms[:count]
        nbytes = count * DATAGRAM
        res.sym_bytes[p] += nbytes
        self.peer_sent[key] = sent + nbytes
        delay = self.delay(p, x)
        b = self.cfg.batch
        if future:   # a NACK resend goes to the head of p's queue (pushing the rest back)
            rate = self.origin_uplink if p == self.origin else self.uplink
            tx = nbytes * 8000.0 / rate
            busy = self.busy[p]
            self.busy[p] = (busy if busy > t else t) + tx
            self.push(t + tx + delay, "data", (p, x, syms, attempt))
            return
        if one_stripe and count <= b:
            self.push(self.depart(p, nbytes, t) + delay, "data", (p, x, syms, attempt))
            return
        stripe_of = self.stripe_of
        i = 0
        while i < count:   # transfers of up to `batch` symbols of one stripe
            s0 = stripe_of(syms[i])
            j = i + 1
            while j < count and j - i < b and stripe_of(syms[j]) == s0:
                j += 1
            end = self.depart(p, (j - i) * DATAGRAM, t)
            self.push(end + delay, "data", (p, x, syms[i:j], attempt))
            i = j

    def on_data(self, t, p, x, syms, attempt):
        st = self.nodes[x]
        if st.decoded:
            return
        if attempt < self.cfg.arq:
            rnd = self.rng.random
            loss = self.loss
            kept = []
            lost = []
            for sym in syms:
                (lost if rnd() < loss else kept).append(sym)
            if lost:   # the gap is seen at once (per-link sequence numbers): NACK, parent resends
                self.res.ctl_bytes[x] += CONTROL + 2 * len(lost)
                if rnd() >= loss:
                    back = self.depart(x, CONTROL + 2 * len(lost), t, True) + self.delay(x, p)
                    self.send_data(p, x, lost, back, attempt + 1, True, True)
            syms = kept
            loss = 0.0
        else:
            loss = self.loss
        rnd = self.rng.random
        have = st.have
        cnt = st.cnt
        ks = self.ks
        new = []
        for sym in syms:
            if rnd() < loss or have[sym]:
                continue
            have[sym] = 1
            new.append(sym)
            b = sym >> 8
            cnt[b] += 1
            if cnt[b] == ks[b]:
                st.ndone += 1
        if not new:
            return
        st.progress_t = t
        self.forward(x, st, new, t)
        if st.ndone == self.Z:
            self.decoded(x, st, t)

    def forward(self, x, st, new, t):
        """new symbols of one stripe (every transfer carries one stripe) to its subscribers. A
        model shortcut: a few stray symbols (NACK resends) ride with the stripe's next transfer,
        or go out when the node decodes or stalls, instead of as transfers of their own."""
        s = self.stripe_of(new[0])
        carry = self.carry.get((x, s))
        if carry:
            new = carry + new
            del self.carry[(x, s)]
        if len(new) < self.cfg.batch // 2:
            if carry is None:
                self.push(t + self.cfg.carry_ms, "flush", (x, s))
            self.carry[(x, s)] = new
            return
        for u in st.subs[s]:
            self.send_data(x, u, new, t, 0, True)

    def on_flush(self, t, x, s):
        carry = self.carry.pop((x, s), None)
        if carry:
            for u in self.nodes[x].subs[s]:
                self.send_data(x, u, carry, t, 0, True)

    def flush(self, x, st, t):
        for s in range(self.cfg.stripes):
            carry = self.carry.pop((x, s), None)
            if carry:
                for u in st.subs[s]:
                    self.send_data(x, u, carry, t, 0, True)

    def on_done(self, t, x, p):
        subs = self.nodes[p].subs
        for s in range(self.cfg.stripes):
            if x in subs[s]:
                subs[s].remove(x)
                self.dropped.add((p, x))

    def decoded(self, x, st, t):
        st.decoded = True
        self.res.arrival[x] = t
        self.flush(x, st, t)
        if self.cfg.done:
            for p in set(q for q in st.parent if q >= 0):
                self.control(x, p, CONTROL, t, "done", (x, p))
        have = st.have
        for s in range(self.cfg.stripes):
            subs = st.subs[s]
            if subs:
                missing = [sym for sym in self.stripe_syms[s] if not have[sym]]
                if missing:
                    for u in subs:
                        self.send_data(x, u, missing, t, 0, True)
        for syms in self.stripe_syms:
            for sym in syms:
                have[sym] = 1

    # ---- pull repair ---------------------------------------------------------------------------
    def on_stall(self, t, x):
        st = self.nodes[x]
        cfg = self.cfg
        if st.decoded or st.gave_up:
            return
        if t - st.first_t > cfg.pull_ttl_ms or st.attempts >= cfg.repair_attempts or not st.holders:
            st.gave_up = True
            return
        if t < st.progress_t + cfg.stall_ms:
            self.push(st.progress_t + cfg.stall_ms, "stall", (x,))
            return
        self.flush(x, st, t)
        h = st.holders[st.rr % len(st.holders)]
        st.rr += 1
        st.attempts += 1
        asks = []
        for b in range(self.Z):
            need = self.ks[b] - st.cnt[b]
            if need > 0:
                ask = need + max(2, -(-need * cfg.repair_percent // 100))
                if cfg.repair_ask_percent:
                    ask = min(ask, max(2, -(-self.ks[b] * cfg.repair_ask_percent // 100)))
                asks.append((b, ask))
        self.res.repair_requests += 1
        self.control(x, h, CONTROL + 34 * len(asks), t, "repair", (x, h, asks, bytes(st.have)))
        self.push(t + cfg.stall_ms, "stall", (x,))

    def on_repair(self, t, x, h, asks, bitmap):
        st = self.nodes[h]
        if st is None:
            return
        out = []
        for b, count in asks:
            base = b * 256
            if st.decoded:
                order = list(range(self.nb[b], 256)) + list(range(self.nb[b]))
                picked = [base + e for e in order if not bitmap[base + e]]
            else:
                have = st.have
                picked = [base + e for e in range(256) if have[base + e] and not bitmap[base + e]]
            out.extend(picked[:count])
        if out:
            self.send_data(h, x, out, t)


def guess_accuracy(res, origin, n, rng, sets=200):
    """Fraction of random observer sets (10% of nodes, not holding the origin) whose estimator
    names the origin: a RELAY offer's sender, else a ROOT offer's sender, else the sender of the
    earliest offer an observer got from a non-observer."""
    right = total = 0
    nodes = range(n)
    for _ in range(sets):
        obs = rng.sample(nodes, n // 10)
        obs_set = set(obs)
        if origin in obs_set:
            continue
        guess = next((res.relay_sender[o] for o in obs if res.relay_sender[o] >= 0), None)
        if guess is None:
            guess = next((res.root_sender[o] for o in obs if res.root_sender[o] >= 0), None)
        if guess is None:
            firsts = [res.first_offer[o] for o in obs if res.first_offer[o] is not None
                      and res.first_offer[o][1] not in obs_set]
            guess = min(firsts)[1] if firsts else None
        total += 1
        right += guess == origin
    return right / total if total else None


def quantile(values, q):
    vals = sorted(values)
    return vals[min(len(vals) - 1, int(math.ceil(q * len(vals))) - 1)]
