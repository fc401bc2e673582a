//! Bearer tokens: 256 random bits, handed out once, stored as a SHA-256 hash.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub struct IssuedToken {
    pub token: String,
    pub hash: String,
}

pub fn issue() -> IssuedToken {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("herd_{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&token);
    IssuedToken { token, hash }
}

/// A fast hash suffices: the token is 256 random bits, not a password.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let a = super::issue();
        let b = super::issue();
        assert_ne!(a.token, b.token);
        assert_eq!(a.hash, super::hash(&a.token));
        assert!(!a.hash.contains(&a.token[5..]));
        assert_eq!(a.token.len(), 5 + 43, "herd_ + 32 bytes in base64url");
    }
}
