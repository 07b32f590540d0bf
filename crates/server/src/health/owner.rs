//! Who checks an instance: rendezvous (highest-random-weight) hashing of its id over the
//! nodes that check, so every node computes the same owner without talking about it, and a
//! node leaving moves only its own instances.

use std::sync::Arc;

/// The node among `nodes` that checks instance `id`: the one with the highest weight for it
/// (ties, which need equal 64-bit hashes, go to the greater name). `None` without nodes.
pub fn owner<'a>(id: &str, nodes: &'a [Arc<str>]) -> Option<&'a Arc<str>> {
    nodes.iter().max_by(|a, b| weight(a, id).cmp(&weight(b, id)).then_with(|| a.cmp(b)))
}

/// A weight fixed by the two strings alone (FNV-1a, then a 64-bit finaliser so that similar
/// names spread): the same on every node and every build, unlike `std`'s hasher.
pub fn weight(node: &str, id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in node.bytes().chain(std::iter::once(0)).chain(id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(names: &[&str]) -> Vec<Arc<str>> {
        names.iter().map(|n| Arc::from(*n)).collect()
    }

    #[test]
    fn the_owner_does_not_depend_on_the_order_nodes_are_listed_in() {
        let a = nodes(&["http://a:8761/eureka/", "http://b:8761/eureka/", "http://c:8761/eureka/"]);
        let mut b = a.clone();
        b.reverse();
        for i in 0..200 {
            let id = format!("host-{i}:orders:8080");
            assert_eq!(owner(&id, &a), owner(&id, &b));
        }
    }

    #[test]
    fn instances_spread_over_nodes_and_a_leaving_node_moves_only_its_own() {
        let all =
            nodes(&["http://a:8761/eureka/", "http://b:8761/eureka/", "http://c:8761/eureka/"]);
        let without_c = all[..2].to_vec();
        let mut counts = [0usize; 3];
        for i in 0..3000 {
            let id = format!("10.0.{}.{}:app-{}:8080", i / 256, i % 256, i % 7);
            let before = owner(&id, &all).unwrap();
            counts[all.iter().position(|n| n == before).unwrap()] += 1;
            let after = owner(&id, &without_c).unwrap();
            if **before != *all[2] {
                assert_eq!(before, after, "{id} moved although its owner stayed");
            }
        }
        for c in counts {
            assert!((800..1200).contains(&c), "uneven spread: {counts:?}");
        }
    }

    #[test]
    fn weights_are_fixed_values() {
        // Nodes of different builds must agree: the function is pinned to values computed
        // independently of this code (FNV-1a 64 then SplitMix64's finaliser, in Python).
        assert_eq!(weight("http://a:8761/eureka/", "web-1:orders:8080"), 0xd523_1546_d12b_f1f0);
        assert_eq!(weight("http://b:8761/eureka/", "web-1:orders:8080"), 0x466c_5bc7_543e_835b);
        assert_ne!(weight("n1", "i"), weight("n2", "i"));
        assert_ne!(weight("ab", "c"), weight("a", "bc"), "the separator keeps fields apart");
        assert_eq!(owner("x", &[]), None);
    }
}
