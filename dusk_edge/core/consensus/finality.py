# Theory of operation: block labels and rolling finality (PROTOCOL.md §3.9).
#
# A new block gets Attested(1) when every earlier iteration of its round is covered by a Fail
# attestation in its failed_iterations (PNI == 0), else Accepted(2 * PNI) and nothing else changes.
# An Attested block confirms its predecessors walking down from tip-1: a block labelled with c
# (Accepted(c) / Attested(c)) becomes Confirmed(distance) once `stable_count >= c`, each stable
# block adds one; the walk stops at the first block that is not yet stable. Then, walking up from
# the last Final block, consecutive Confirmed blocks become Final(distance). Final is permanent.
# Label wire/disk form: tag:u8 (0 Accepted, 1 Attested, 2 Confirmed, 3 Final) | value:u64le.
from dusk_edge.core.errors import DecodeError, LocalProtocolError

ACCEPTED = 0
ATTESTED = 1
CONFIRMED = 2
FINAL = 3
LABEL_NAMES = ("accepted", "attested", "confirmed", "final")
MAX_ITERATIONS = 50


class Label:
    __slots__ = ("kind", "value")

    def __init__(self, kind, value):
        if kind not in (ACCEPTED, ATTESTED, CONFIRMED, FINAL):
            raise LocalProtocolError("unknown label %r" % (kind,))
        self.kind = kind
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Label) and self.kind == other.kind and self.value == other.value

    def __hash__(self):
        return hash((self.kind, self.value))

    def __repr__(self):
        return "%s(%d)" % (LABEL_NAMES[self.kind].capitalize(), self.value)

    @property
    def name(self):
        return LABEL_NAMES[self.kind]

    def is_final(self):
        return self.kind == FINAL


def pull_label(buf):
    kind = buf.pull_u8()
    if kind > FINAL:
        raise DecodeError("unknown label tag %d" % kind)
    return Label(kind, buf.pull_u64())


def push_label(buf, label):
    buf.push_u8(label.kind)
    buf.push_u64(label.value)


def compute_pni(iteration, failed_attested):
    """Previous non-attested iterations: min(iteration, 50) - #attested failed iterations."""
    bound = iteration if iteration < MAX_ITERATIONS else MAX_ITERATIONS
    if failed_attested < 0 or failed_attested > bound:
        raise LocalProtocolError("failed_attested %d outside 0..%d" % (failed_attested, bound))
    return bound - failed_attested


def compute_new_label(pni):
    return Label(ATTESTED, 1) if pni == 0 else Label(ACCEPTED, 2 * pni)


class RollingFinality:
    """Labels of the non-final suffix of the chain. ``labels`` maps height -> Label for every block
    above ``last_final`` plus the last final one; heights are contiguous."""

    __slots__ = ("labels", "last_final", "tip")

    def __init__(self, final_height=0):
        self.labels = {final_height: Label(FINAL, 0)}
        self.last_final = final_height
        self.tip = final_height

    def get_label(self, height):
        return self.labels.get(height)

    def on_block_accepted(self, height, iteration, failed_attested):
        """Label the new tip; returns [(height, Final label)] newly final, ascending."""
        if height != self.tip + 1:
            raise LocalProtocolError("blocks must be appended in order")
        label = compute_new_label(compute_pni(iteration, failed_attested))
        self.labels[height] = label
        self.tip = height
        if label.kind != ATTESTED:
            return []
        self.process_confirmations(height)
        return self.process_finality(height)

    def on_block_reverted(self, height):
        """Drop the tip (fork choice); Final blocks cannot be reverted."""
        if height != self.tip or height <= self.last_final:
            raise LocalProtocolError("only a non-final tip can be reverted")
        del self.labels[height]
        self.tip = height - 1

    def process_confirmations(self, current):
        stable = 1
        height = current - 1
        while height > self.last_final:
            label = self.labels[height]
            if label.kind == CONFIRMED:
                stable += 1
            elif stable >= label.value:
                self.labels[height] = Label(CONFIRMED, current - height)
                stable += 1
            else:
                break
            height -= 1

    def process_finality(self, current):
        finalized = []
        height = self.last_final + 1
        while height < current and self.labels[height].kind == CONFIRMED:
            label = Label(FINAL, current - height)
            self.labels[height] = label
            finalized.append((height, label))
            self.last_final = height
            height += 1
        # Keep only the newest Final label as the anchor; older ones are in the store.
        for old in [h for h in self.labels if h < self.last_final]:
            del self.labels[old]
        return finalized
