use std::fmt;
use std::str::FromStr;

use ssh_key::{Algorithm, HashAlg, PublicKey};

/// A guest's SSH host public key, as its login shell reported it: an
/// Ed25519 key (what guests make), parsed once. Shown as OpenSSH shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey(PublicKey);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an ssh-ed25519 public key: {0}")]
pub struct InvalidHostKey(String);

impl FromStr for HostKey {
    type Err = InvalidHostKey;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = PublicKey::from_openssh(s.trim()).map_err(|e| InvalidHostKey(e.to_string()))?;
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(InvalidHostKey(format!("{} key", key.algorithm())));
        }
        // Only the key: a comment is the guest's to write, not ours to show.
        Ok(Self(PublicKey::new(key.key_data().clone(), "")))
    }
}

impl HostKey {
    pub const ALGORITHM: &'static str = "ssh-ed25519";

    /// `ssh-ed25519 AAAA…`, as in `known_hosts`.
    pub fn openssh(&self) -> String {
        self.0.to_openssh().unwrap_or_default().trim().to_owned()
    }

    /// `SHA256:…`, exactly as `ssh-keygen -l -E sha256` prints it.
    pub fn fingerprint(&self) -> String {
        self.0.fingerprint(HashAlg::Sha256).to_string()
    }

    /// The SHA-256 of the key, in hex: an SSHFP record's type 2 data.
    pub fn sshfp_sha256(&self) -> String {
        let fp = self.0.fingerprint(HashAlg::Sha256);
        fp.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Display for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.openssh())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // `ssh-keygen -t ed25519` made this one; `ssh-keygen -l -E sha256` and
    // `ssh-keygen -r h` gave the expected values.
    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFY88lyLdfFA9fuCYflLEARFRJjsB5HW/KOwAWdL3Qvs someone@host";

    #[test]
    fn parses_and_shows_an_ed25519_key() {
        let key: HostKey = KEY.parse().unwrap();
        assert_eq!(
            key.openssh(),
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFY88lyLdfFA9fuCYflLEARFRJjsB5HW/KOwAWdL3Qvs"
        );
        assert_eq!(
            key.fingerprint(),
            "SHA256:Y6IS+1nGZdDaGUoVClmPZf/4oRpUcL1oA+qkm1f9sxE"
        );
        assert_eq!(
            key.sshfp_sha256(),
            "63a212fb59c665d0da194a150a598f65fff8a11a5470bd6803eaa49b57fdb311"
        );
        assert!("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7"
            .parse::<HostKey>()
            .is_err());
        assert!("hello".parse::<HostKey>().is_err());
    }
}
