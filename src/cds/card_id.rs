//! Card uuids that prove we issued them, without storing anything: 58 random bits and a
//! 62-bit HMAC-SHA256 tag over them, laid out as a version-4 UUID. Feedback for a uuid
//! whose tag does not verify is refused, so nobody can write override records for cards
//! the service never issued. The key is `cds.card_key` (the same on every replica).
//!
//! One of the 58 bits says whether the card carries a suggestion (the tag covers it, so it
//! cannot be flipped), and the suggestion's uuid is an HMAC of the card's: feedback that
//! accepts a card can be checked to name that card's suggestion and no other.

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

/// Bit of byte 0 (part of the tagged nonce) set on cards that carry a suggestion.
const SUGGESTION_BIT: u8 = 0x01;

/// What a verified card uuid says about its card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issued {
    pub with_suggestion: bool,
}

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

    /// A new card uuid; `with_suggestion` is folded into it (see `verify`).
    pub fn issue(&self, with_suggestion: bool) -> Result<uuid::Uuid, String> {
        let mut b = [0u8; 16];
        self.rng
            .fill(&mut b[..8])
            .map_err(|_| "cds: no randomness for a card id".to_owned())?;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[0] = (b[0] & !SUGGESTION_BIT) | if with_suggestion { SUGGESTION_BIT } else { 0 };
        let t = tag(&self.key, &b[..8]);
        b[8..].copy_from_slice(&t);
        Ok(uuid::Uuid::from_bytes(b))
    }

    /// `Some` for a uuid this service issued, saying whether the card carried a suggestion.
    pub fn verify(&self, id: &uuid::Uuid) -> Option<Issued> {
        let b = id.as_bytes();
        let expected = tag(&self.key, &b[..8]);
        // Constant time: a timing difference would let a forger learn the tag byte by byte.
        bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], &b[8..])).then_some(Issued {
            with_suggestion: b[0] & SUGGESTION_BIT != 0,
        })
    }

    /// The uuid of the suggestion on `card` (a version-4 layout of an HMAC of the card uuid).
    pub fn suggestion_of(&self, card: &uuid::Uuid) -> uuid::Uuid {
        let mut input = b"suggestion:".to_vec();
        input.extend_from_slice(card.as_bytes());
        let mac = hmac::sign(&self.key, &input);
        let mut b = [0u8; 16];
        b.copy_from_slice(&mac.as_ref()[..16]);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        uuid::Uuid::from_bytes(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_ids_verify_and_others_do_not() {
        let ids = CardIds::new(&"ab".repeat(32), 20).unwrap();
        let id = ids.issue(false).unwrap();
        assert_eq!(id.get_version_num(), 4);
        assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        assert_eq!(
            ids.verify(&id),
            Some(Issued {
                with_suggestion: false
            })
        );
        assert!(ids.verify(&uuid::Uuid::new_v4()).is_none());
        let other = CardIds::new(&"cd".repeat(32), 20).unwrap();
        assert!(other.verify(&id).is_none());
        let mut forged = *id.as_bytes();
        forged[15] ^= 1;
        assert!(ids.verify(&uuid::Uuid::from_bytes(forged)).is_none());
    }

    #[test]
    fn the_suggestion_bit_is_tagged_and_suggestions_belong_to_their_card() {
        let ids = CardIds::new(&"ab".repeat(32), 20).unwrap();
        let card = ids.issue(true).unwrap();
        assert_eq!(
            ids.verify(&card),
            Some(Issued {
                with_suggestion: true
            })
        );
        // Flipping the bit to claim (or deny) a suggestion breaks the tag.
        let mut flipped = *card.as_bytes();
        flipped[0] ^= SUGGESTION_BIT;
        assert!(ids.verify(&uuid::Uuid::from_bytes(flipped)).is_none());
        let suggestion = ids.suggestion_of(&card);
        assert_eq!(suggestion.get_version_num(), 4);
        assert_eq!(suggestion.get_variant(), uuid::Variant::RFC4122);
        assert_eq!(suggestion, ids.suggestion_of(&card));
        assert_ne!(suggestion, ids.suggestion_of(&ids.issue(true).unwrap()));
        assert_ne!(suggestion, card);
    }
}
