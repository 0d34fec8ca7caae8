#!/usr/bin/env python3
"""Independent re-derivation of the agora handshake example
(proto/PROTOCOL.md section 3, tests/node/agora_example.h) in plain Python:
Noise_XX_25519_ChaChaPoly_BLAKE2b written from the spec, on the
`cryptography` package and hashlib, sharing no code with node/engine/noise.c.
Prints the example as C #defines; exits 1 if they differ from
agora_example.h (path given as the first argument)."""
import hashlib, hmac, re, sys
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization as ser

RAW = dict(encoding=ser.Encoding.Raw, format=ser.PublicFormat.Raw)
P = 2**255 - 19

def H(b): return hashlib.blake2b(b, digest_size=64).digest()
def HMAC(k, m): return hmac.new(k, m, lambda d=b"": hashlib.blake2b(d, digest_size=64)).digest()
def HKDF(ck, ikm, n):
    t = HMAC(ck, ikm); o1 = HMAC(t, b"\x01"); o2 = HMAC(t, o1 + b"\x02")
    return (o1, o2) if n == 2 else (o1, o2, HMAC(t, o2 + b"\x03"))
def xpub(sk): return X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes(**RAW)
def dh(sk, pk): return X25519PrivateKey.from_private_bytes(sk).exchange(X25519PublicKey.from_public_bytes(pk))
def ed_keys(seed):
    pk = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(**RAW)
    xsk = hashlib.sha512(seed).digest()[:32]          # clamped by X25519 itself
    y = int.from_bytes(pk, "little") & ((1 << 255) - 1)
    u = (1 + y) * pow(1 - y, P - 2, P) % P             # Edwards y -> Montgomery u
    return pk, xsk, u.to_bytes(32, "little")

class Sym:
    def __init__(s, name):
        s.h = name.ljust(64, b"\0") if len(name) <= 64 else H(name); s.ck = s.h; s.k = None; s.n = 0
    def mix_hash(s, d): s.h = H(s.h + d)
    def mix_key(s, ikm): s.ck, t = HKDF(s.ck, ikm, 2); s.k = t[:32]; s.n = 0
    def enc(s, pt):
        ct = ChaCha20Poly1305(s.k).encrypt(b"\0" * 4 + s.n.to_bytes(8, "little"), pt, s.h) if s.k else pt
        s.n += 1; s.mix_hash(ct); return ct
    def dec(s, ct):
        pt = ChaCha20Poly1305(s.k).decrypt(b"\0" * 4 + s.n.to_bytes(8, "little"), ct, s.h) if s.k else ct
        s.n += 1; s.mix_hash(ct); return pt

def main():
    ed_i, xs_i, xp_i = ed_keys(bytes(range(0x00, 0x20)))
    ed_r, xs_r, xp_r = ed_keys(bytes(range(0x20, 0x40)))
    assert xpub(xs_i) == xp_i and xpub(xs_r) == xp_r
    e_i, e_r = bytes(range(0x40, 0x60)), bytes(range(0x60, 0x80))
    I, R = Sym(b"Noise_XX_25519_ChaChaPoly_BLAKE2b"), Sym(b"Noise_XX_25519_ChaChaPoly_BLAKE2b")
    for s in (I, R): s.mix_hash(b"agora/1")
    # -> e
    m1 = xpub(e_i); I.mix_hash(m1); m1 += I.enc(b"")
    R.mix_hash(m1[:32]); assert R.dec(m1[32:]) == b""
    # <- e, ee, s, es   (payload: responder's Ed25519 public key)
    m2 = xpub(e_r); R.mix_hash(m2); R.mix_key(dh(e_r, m1[:32]))
    m2 += R.enc(xp_r); R.mix_key(dh(xs_r, m1[:32])); m2 += R.enc(ed_r)
    I.mix_hash(m2[:32]); I.mix_key(dh(e_i, m2[:32])); rs = I.dec(m2[32:80])
    I.mix_key(dh(e_i, rs)); assert I.dec(m2[80:]) == ed_r and rs == xp_r
    # -> s, se
    m3 = I.enc(xp_i); I.mix_key(dh(xs_i, m2[:32])); m3 += I.enc(ed_i)
    ri = R.dec(m3[:48]); R.mix_key(dh(e_r, ri)); assert R.dec(m3[48:]) == ed_i
    assert I.h == R.h
    k1, k2 = HKDF(I.ck, b"", 2)
    pt = (13).to_bytes(4, "big") + b"hello, Assens"
    ct = ChaCha20Poly1305(k1[:32]).encrypt(bytes(12), pt, b"")
    app1 = len(ct).to_bytes(2, "big") + ct
    out = {"EXAMPLE_ED_PK_I": ed_i, "EXAMPLE_ED_PK_R": ed_r, "EXAMPLE_MSG1": m1,
           "EXAMPLE_MSG2": m2, "EXAMPLE_MSG3": m3, "EXAMPLE_HASH": I.h, "EXAMPLE_APP1": app1}
    for k, v in out.items(): print('#define %s "%s"' % (k, v.hex()))
    if len(sys.argv) > 1:
        text = open(sys.argv[1]).read()
        for k, v in out.items():
            m = re.search(r'#define %s\s+"([0-9a-f]*)"' % k, text)
            if not m or m.group(1) != v.hex():
                print("MISMATCH", k); sys.exit(1)
        print("agora_example.h matches")

main()
