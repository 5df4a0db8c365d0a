//! Card uuids that prove we issued them, without storing anything: 58 random bits and a
//! 62-bit HMAC-SHA256 tag over them, laid out as a version-4 UUID. Feedback for a uuid
//! whose tag does not verify is refused, so nobody can write override records for cards
//! the service never issued. The key is `cds.card_key` (the same on every replica).

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

pub struct CardIds {
    key: hmac::Key,
    rng: SystemRandom,
    /// Most feedback entries one request may carry (`cds.max_feedback_entries`).
    pub max_feedback: usize,
}

/// Bytes 0–7 (version nibble set) are the nonce; bytes 8–15 (variant bits set) the tag.
fn tag(key: &hmac::Key, nonce: &[u8]) -> [u8; 8] {
    let mac = hmac::sign(key, nonce);
    let mut out = [0u8; 8];
    out.copy_from_slice(&mac.as_ref()[..8]);
    out[0] = (out[0] & 0x3f) | 0x80;
    out
}

impl CardIds {
    /// `hex_key` empty: a random key, valid for this process only.
    pub fn new(hex_key: &str, max_feedback: usize) -> Result<CardIds, String> {
        let rng = SystemRandom::new();
        let bytes = if hex_key.is_empty() {
            let mut k = [0u8; 32];
            rng.fill(&mut k)
                .map_err(|_| "cds: no randomness for the card key".to_owned())?;
            k.to_vec()
        } else {
            hex::decode(hex_key).map_err(|_| "cds.card_key is not hex".to_owned())?
        };
        Ok(CardIds {
            key: hmac::Key::new(hmac::HMAC_SHA256, &bytes),
            rng,
            max_feedback,
        })
    }

    pub fn issue(&self) -> Result<uuid::Uuid, String> {
        let mut b = [0u8; 16];
        self.rng
            .fill(&mut b[..8])
            .map_err(|_| "cds: no randomness for a card id".to_owned())?;
        b[6] = (b[6] & 0x0f) | 0x40;
        let t = tag(&self.key, &b[..8]);
        b[8..].copy_from_slice(&t);
        Ok(uuid::Uuid::from_bytes(b))
    }

    pub fn verify(&self, id: &uuid::Uuid) -> bool {
        let b = id.as_bytes();
        let expected = tag(&self.key, &b[..8]);
        // Constant time: a timing difference would let a forger learn the tag byte by byte.
        bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], &b[8..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_ids_verify_and_others_do_not() {
        let ids = CardIds::new(&"ab".repeat(32), 20).unwrap();
        let id = ids.issue().unwrap();
        assert_eq!(id.get_version_num(), 4);
        assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        assert!(ids.verify(&id));
        assert!(!ids.verify(&uuid::Uuid::new_v4()));
        let other = CardIds::new(&"cd".repeat(32), 20).unwrap();
        assert!(!other.verify(&id));
        let mut forged = *id.as_bytes();
        forged[15] ^= 1;
        assert!(!ids.verify(&uuid::Uuid::from_bytes(forged)));
    }
}
