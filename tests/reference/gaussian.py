"""Plain-Python reference of byzref.gaussian (never imported by the library).

Written from the published definitions, with Python integers masked to 64 bits and Python floats:
SplitMix64 (Steele, Lea & Flood 2014), xoshiro256++ (Blackman & Vigna 2021) and the 256-layer
ziggurat (Marsaglia & Tsang 2000) whose tables are built here from scratch.
"""

import math

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
R = 3.6541528853610088


def splitmix64_outputs(seed, count):
    """The first ``count`` SplitMix64 outputs of the sequence seeded with ``seed``."""
    out, state = [], seed & MASK
    for _ in range(count):
        state = (state + GAMMA) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        out.append(z ^ (z >> 31))
    return out


class Xoshiro256pp:
    """xoshiro256++ on a 4-word state."""

    def __init__(self, state):
        self.s = list(state)

    def next(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & MASK  # noqa: E731
        out = (rotl((s[0] + s[3]) & MASK, 23) + s[0]) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return out


def tables():
    """X (257 edges), F = e^{−X²/2}, K = ⌊2⁵³ X[i+1]/X[i]⌋ for 256 layers of equal area v."""
    f = lambda x: math.exp(-0.5 * x * x)  # noqa: E731
    v = R * f(R) + math.sqrt(math.pi / 2) * math.erfc(R / math.sqrt(2))
    X = [v / f(R), R]
    for i in range(1, 255):
        X.append(math.sqrt(-2.0 * math.log(v / X[i] + f(X[i]))))
    X.append(0.0)
    F = [f(x) for x in X]
    K = [int(2.0**53 * (X[i + 1] / X[i])) for i in range(256)]
    return X, F, K


def normal(gen, X, F, K):
    """One ziggurat standard normal from the word stream ``gen``."""
    u = gen.next()
    while True:
        i, neg, m = u & 255, (u >> 8) & 1, u >> 11
        x = float(m) * (X[i] * 2.0**-53)
        if m < K[i]:
            return -x if neg else x
        if i == 0:
            while True:
                a = -math.log(float((gen.next() >> 11) + 1) * 2.0**-53) / X[1]
                b = -math.log(float((gen.next() >> 11) + 1) * 2.0**-53)
                if b + b > a * a:
                    return -(X[1] + a) if neg else X[1] + a
        y = F[i] + float(gen.next() >> 11) * 2.0**-53 * (F[i + 1] - F[i])
        if y < math.exp(-0.5 * x * x):
            return -x if neg else x
        u = gen.next()


def normal_row(seed, row, length):
    """Row ``row`` of the draw seeded ``seed``: xoshiro256++ seeded by SplitMix64 outputs 4r+1..4r+4."""
    state = splitmix64_outputs(seed, 4 * row + 4)[4 * row:]
    gen, (X, F, K) = Xoshiro256pp(state), tables()
    return [normal(gen, X, F, K) for _ in range(length)]
