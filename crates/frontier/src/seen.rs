//! A bounded, exact screen in front of the seen-set.
//!
//! Most links a crawler finds were seen before (every page of a site links the same
//! navigation). Asking SQLite about each costs a B-tree probe on the store thread; this
//! direct-mapped table of 64-bit fingerprints answers most of them in memory first. It
//! never says "seen" wrongly (a slot holds a full fingerprint), it only forgets: a slot
//! is overwritten by the next fingerprint that maps to it, and a forgotten URL is simply
//! checked against the store again. Memory is fixed at creation (8 bytes per slot).

/// A direct-mapped cache of URL fingerprints. See the module docs.
#[derive(Debug, Clone)]
pub struct SeenCache {
    slots: Vec<u64>,
    mask: usize,
}

impl SeenCache {
    /// A cache of `2^bits` slots (`bits` clamped to 4..=28; 20 bits = 8 MiB).
    pub fn new(bits: u32) -> SeenCache {
        let bits = bits.clamp(4, 28);
        let len = 1usize << bits;
        SeenCache {
            slots: vec![0; len],
            mask: len - 1,
        }
    }

    /// Whether `fp` was inserted and not forgotten since; inserts it either way.
    pub fn check_and_insert(&mut self, fp: i64) -> bool {
        let (slot, fp) = self.slot(fp);
        if self.slots[slot] == fp {
            return true;
        }
        self.slots[slot] = fp;
        false
    }

    /// Forgets `fp` (a URL turned away for now, e.g. found deeper than `--max-depth`,
    /// that may be welcome when found again).
    pub fn forget(&mut self, fp: i64) {
        let (slot, fp) = self.slot(fp);
        if self.slots[slot] == fp {
            self.slots[slot] = 0;
        }
    }

    fn slot(&self, fp: i64) -> (usize, u64) {
        let fp = u64::from_ne_bytes(fp.to_ne_bytes()) | 1; // 0 marks an empty slot
        // The low bits of xxh3 are well mixed; fold the high half in anyway.
        (((fp ^ (fp >> 32)) as usize) & self.mask, fp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_and_forgets_but_never_lies() {
        let mut cache = SeenCache::new(4);
        assert!(!cache.check_and_insert(42));
        assert!(cache.check_and_insert(42));
        // Fill the table with others: 42 may be forgotten, never confused.
        for fp in 1000..1100 {
            cache.check_and_insert(fp);
        }
        cache.check_and_insert(42);
        assert!(cache.check_and_insert(42));
        cache.forget(42);
        assert!(!cache.check_and_insert(42));
    }
}
