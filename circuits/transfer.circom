pragma circom 2.0.0;
// The shielded transfer statement (docs/shielded.md). Public: a recent note-tree root, two
// nullifiers, two output commitments, the public amount entering (shield) and leaving (unshield)
// the pool, the fee, and a binding hash of the rest of the transaction. Private: the two input
// notes with their owner secrets and Merkle paths, and the two output notes.
// An input with value 0 is a dummy: its Merkle path is not checked, everything else is.
include "poseidon.circom";

// Tags of dusk_edge/zk/poseidon.py.
function TAG_OWNER() { return 1; }
function TAG_NOTE_INNER() { return 2; }
function TAG_NOTE() { return 3; }
function TAG_MERKLE() { return 4; }
function TAG_NULLIFIER_INNER() { return 5; }
function TAG_NULLIFIER() { return 6; }

// in < 2^n, by decomposition into n boolean signals.
template RangeCheck(n) {
    signal input in;
    signal bits[n];
    var acc = 0;
    var weight = 1;
    for (var i = 0; i < n; i++) {
        bits[i] <-- (in >> i) & 1;
        bits[i] * (bits[i] - 1) === 0;
        acc += bits[i] * weight;
        weight = weight + weight;
    }
    acc === in;
}

template NoteCommitment() {
    signal input ownerKey;
    signal input value;
    signal input blinding;
    signal output out;
    component inner = PoseidonHash2(TAG_NOTE_INNER());
    inner.a <== ownerKey;
    inner.b <== value;
    component outer = PoseidonHash2(TAG_NOTE());
    outer.a <== inner.out;
    outer.b <== blinding;
    out <== outer.out;
}

// Root of the tree holding `leaf` at the position whose little-endian bits are `bits`.
template MerkleRoot(depth) {
    signal input leaf;
    signal input siblings[depth];
    signal input bits[depth];
    signal output root;
    component node[depth];
    signal swap[depth];
    var cur = leaf;
    for (var j = 0; j < depth; j++) {
        bits[j] * (bits[j] - 1) === 0;
        swap[j] <== bits[j] * (siblings[j] - cur);
        node[j] = PoseidonHash2(TAG_MERKLE());
        node[j].a <== cur + swap[j];
        node[j].b <== siblings[j] - swap[j];
        cur = node[j].out;
    }
    root <== cur;
}

// One spent note: returns its nullifier; checks membership unless the value is 0.
template SpendInput(depth) {
    signal input root;
    signal input secret;
    signal input value;
    signal input blinding;
    signal input siblings[depth];
    signal input bits[depth];
    signal output nullifier;

    component owner = PoseidonHash2(TAG_OWNER());
    owner.a <== secret;
    owner.b <== 0;
    component note = NoteCommitment();
    note.ownerKey <== owner.out;
    note.value <== value;
    note.blinding <== blinding;

    component path = MerkleRoot(depth);
    path.leaf <== note.out;
    for (var j = 0; j < depth; j++) {
        path.siblings[j] <== siblings[j];
        path.bits[j] <== bits[j];
    }
    (path.root - root) * value === 0;

    var position = 0;
    var weight = 1;
    for (var j = 0; j < depth; j++) {
        position += bits[j] * weight;
        weight = weight + weight;
    }
    component nfInner = PoseidonHash2(TAG_NULLIFIER_INNER());
    nfInner.a <== secret;
    nfInner.b <== position;
    component nf = PoseidonHash2(TAG_NULLIFIER());
    nf.a <== nfInner.out;
    nf.b <== note.out;
    nullifier <== nf.out;

    component range = RangeCheck(64);
    range.in <== value;
}

template Transfer(depth) {
    signal input root;
    signal input nullifier[2];
    signal input commitment[2];
    signal input publicIn;
    signal input publicOut;
    signal input fee;
    signal input binding;

    signal input inSecret[2];
    signal input inValue[2];
    signal input inBlinding[2];
    signal input inSiblings[2][depth];
    signal input inBits[2][depth];
    signal input outOwner[2];
    signal input outValue[2];
    signal input outBlinding[2];

    component spend[2];
    component out[2];
    component outRange[2];
    for (var i = 0; i < 2; i++) {
        spend[i] = SpendInput(depth);
        spend[i].root <== root;
        spend[i].secret <== inSecret[i];
        spend[i].value <== inValue[i];
        spend[i].blinding <== inBlinding[i];
        for (var j = 0; j < depth; j++) {
            spend[i].siblings[j] <== inSiblings[i][j];
            spend[i].bits[j] <== inBits[i][j];
        }
        spend[i].nullifier === nullifier[i];

        out[i] = NoteCommitment();
        out[i].ownerKey <== outOwner[i];
        out[i].value <== outValue[i];
        out[i].blinding <== outBlinding[i];
        out[i].out === commitment[i];
        outRange[i] = RangeCheck(64);
        outRange[i].in <== outValue[i];
    }
    component publicRange[3];
    publicRange[0] = RangeCheck(64);
    publicRange[0].in <== publicIn;
    publicRange[1] = RangeCheck(64);
    publicRange[1].in <== publicOut;
    publicRange[2] = RangeCheck(64);
    publicRange[2].in <== fee;

    inValue[0] + inValue[1] + publicIn === outValue[0] + outValue[1] + publicOut + fee;

    // Ties the proof to the rest of the transaction (recipient account, note ciphertexts).
    signal bindingSquare;
    bindingSquare <== binding * binding;
}

component main {public [root, nullifier, commitment, publicIn, publicOut, fee, binding]} = Transfer(16);
