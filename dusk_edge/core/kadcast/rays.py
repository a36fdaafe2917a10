# Theory of operation: assembly of broadcast rays (one ray = one gossip frame cut into FEC chunks).
# A ray is Receiving while chunks arrive (one decoder per distinct OTI/header key, the max height
# seen is kept), then Processed for cache_ttl so late chunks are dropped without work (the
# reference's dedup). After decoding, the ray id is recomputed over the frame and a mismatch
# discards the decoders (integrity). Rays that never decode expire after cache_ttl. Receivers that
# stall ask a sender for fresh symbols (pull repair). Encoders of rays we sent or decoded are kept
# (bounded) so we can answer such requests. Every container here is capped.
from dusk_edge.core.errors import DecodeError
from dusk_edge.core.kadcast.rs import ray_id_of

MAX_DECODERS_PER_RAY = 4
MAX_SENDERS_PER_RAY = 8


class ReceivingRay:
    __slots__ = ("decoders", "height", "senders", "expires_at", "last_chunk_at",
                 "repair_attempts", "next_repair_at", "size")

    def __init__(self, now, ttl):
        self.decoders = {}
        self.height = 0
        self.senders = []
        self.expires_at = now + ttl
        self.last_chunk_at = now
        self.repair_attempts = 0
        self.next_repair_at = None
        self.size = 0


class RayCache:
    """Receiving and processed rays plus the encoders kept for pull repair."""
    __slots__ = ("fec", "ttl", "max_receiving", "max_bytes", "max_served", "receiving",
                 "processed", "served", "receiving_bytes", "_served_order", "integrity_failures")

    def __init__(self, fec, ttl, max_receiving, max_bytes, max_served):
        self.fec = fec
        self.ttl = ttl
        self.max_receiving = max_receiving
        self.max_bytes = max_bytes
        self.max_served = max_served
        self.receiving = {}
        self.processed = {}
        self.served = {}
        self._served_order = []
        self.receiving_bytes = 0
        self.integrity_failures = 0

    def is_processed(self, ray_id):
        return ray_id in self.processed

    def mark_processed(self, ray_id, now):
        self.processed[ray_id] = now + self.ttl
        ray = self.receiving.pop(ray_id, None)
        if ray is not None:
            self.receiving_bytes -= ray.size

    def keep_encoder(self, ray_id, encoder):
        if ray_id not in self.served:
            self._served_order.append(ray_id)
        self.served[ray_id] = encoder
        while len(self._served_order) > self.max_served:
            self.served.pop(self._served_order.pop(0), None)

    def add_chunk(self, chunk, height, sender, now):
        """Feed one chunk frame. Returns (ray_id, frame, height) once the ray decodes, else None.
        Raises DecodeError for a malformed chunk."""
        ray_id, key, parsed = self.fec.parse_chunk(chunk)
        if ray_id in self.processed:
            return None
        ray = self.receiving.get(ray_id)
        if ray is None:
            if len(self.receiving) >= self.max_receiving:
                return None  # too many rays in flight: drop (the sender's repair or Inv recovers)
            ray = self.receiving[ray_id] = ReceivingRay(now, self.ttl)
        decoder = ray.decoders.get(key)
        if decoder is None:
            size = decoder_size(key, len(chunk))
            if len(ray.decoders) >= MAX_DECODERS_PER_RAY or self.receiving_bytes + size > self.max_bytes:
                return None
            decoder = ray.decoders[key] = self.fec.new_decoder(key)
            ray.size += size
            self.receiving_bytes += size
        if height > ray.height:
            ray.height = height
        if sender not in ray.senders and len(ray.senders) < MAX_SENDERS_PER_RAY:
            ray.senders.append(sender)
        ray.last_chunk_at = now
        frame = decoder.add(parsed)
        if frame is None:
            return None
        if ray_id_of(frame) != ray_id:
            # integrity: chunks lied about the ray; forget this decoder, keep listening
            self.integrity_failures += 1
            del ray.decoders[key]
            return None
        self.mark_processed(ray_id, now)
        return ray_id, frame, ray.height

    def expire(self, now):
        for ray_id in [r for r, t in self.processed.items() if t <= now]:
            del self.processed[ray_id]
        for ray_id in [r for r, ray in self.receiving.items() if ray.expires_at <= now]:
            self.receiving_bytes -= self.receiving.pop(ray_id).size

    def next_deadline(self):
        deadline = None
        for ray in self.receiving.values():
            for t in (ray.expires_at, ray.next_repair_at):
                if t is not None and (deadline is None or t < deadline):
                    deadline = t
        return deadline


def decoder_size(key, chunk_len):
    """Bytes a decoder for ``key`` may hold: the transfer length read from the key (both schemes
    put it in the first bytes of the key), bounded by what one chunk implies at least."""
    if len(key) >= 12 and key[5] == 0:  # raptorq OTI: 40-bit big-endian length
        return int.from_bytes(key[0:5], "big")
    if len(key) >= 5:                    # rs: tag | u32le length
        return key[1] | key[2] << 8 | key[3] << 16 | key[4] << 24
    raise DecodeError("decoder key too short")
