//! Keys that must be the same in every run and build (rule names, replay-count keys): FNV-1a, which,
//! unlike std's hasher, is not seeded per process.

pub(crate) fn stable_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
