//! MD5 (RFC 1321), Go's `crypto/md5.Sum`, for the MD5All examples: small
//! enough to keep them free of dependencies. A real program would use the
//! `md-5` crate.
//!
//! ```
//! use examples::md5;
//!
//! assert_eq!(md5::hex(&md5::sum(b"")), "d41d8cd98f00b204e9800998ecf8427e");
//! ```

/// The MD5 digest of `data`: Go's `md5.Sum(data)`.
///
/// ```
/// let digest = examples::md5::sum(b"abc");
/// assert_eq!(digest[..4], [0x90, 0x01, 0x50, 0x98]);
/// ```
pub fn sum(data: &[u8]) -> [u8; 16] {
    // Per-round shift amounts, and K[i] = floor(|sin(i + 1)| * 2^32).
    const S: [[u32; 4]; 4] = [
        [7, 12, 17, 22],
        [5, 9, 14, 20],
        [4, 11, 16, 23],
        [6, 10, 15, 21],
    ];
    let k: [u32; 64] = std::array::from_fn(|i| {
        // Exact in an f64: the product is below 2^32 and the sine's error
        // is far below one unit in the last of its 53 bits.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let k = ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32;
        k
    });

    // Padding: a 1 bit, zeros up to 56 bytes mod 64, the length in bits.
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&(data.len() as u64).wrapping_mul(8).to_le_bytes());

    let mut state: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for block in message.chunks_exact(64) {
        let m: [u32; 16] = std::array::from_fn(|j| {
            u32::from_le_bytes(block[4 * j..4 * j + 4].try_into().expect("4 bytes"))
        });
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i / 16][i % 4]));
        }
        for (word, add) in state.iter_mut().zip([a, b, c, d]) {
            *word = word.wrapping_add(add);
        }
    }
    let mut digest = [0; 16];
    for (out, word) in digest.chunks_exact_mut(4).zip(state) {
        out.copy_from_slice(&word.to_le_bytes());
    }
    digest
}

/// `digest` in lower-case hexadecimal: Go's `fmt.Printf("%x", digest)`.
///
/// ```
/// let digest = examples::md5::sum(b"The quick brown fox jumps over the lazy dog");
/// assert_eq!(examples::md5::hex(&digest), "9e107d9d372bb6826bd81d3542a419d6");
/// ```
pub fn hex(digest: &[u8; 16]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
