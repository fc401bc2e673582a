//! Configuration: built-in defaults, then a TOML file (`--config PATH`, or
//! `./herd.toml` when present), then `HERD_*` environment variables. Every
//! key of [`Settings`] is also an environment variable: `ldap_url` is
//! `HERD_LDAP_URL`.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use herd_provisioner::firewall::{FirewallPolicy, PortRange};
use serde::{Deserialize, Serialize};

use crate::forwarded::TrustedProxies;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    #[serde(deserialize_with = "lenient::string")]
    pub listen: String,
    pub data_dir: PathBuf,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub database_url: Option<String>,
    pub database_pool_size: u32,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub admin_password: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub ldap_url: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub ldap_bind_dn: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub ldap_bind_password: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub ldap_user_base: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub ldap_user_filter: String,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub ldap_group_base: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub ldap_group_member_attribute: String,
    #[serde(deserialize_with = "lenient::string")]
    pub ldap_staff_group: String,
    #[serde(deserialize_with = "lenient::string")]
    pub ldap_admin_group: String,
    pub ldap_timeout_seconds: u64,
    pub ldap_recheck_seconds: u64,
    pub token_default_ttl_seconds: u64,
    pub token_max_ttl_seconds: u64,
    pub login_failures_per_user: u32,
    pub login_failures_per_address: u32,
    pub login_failure_window_seconds: u64,
    pub max_body_bytes: usize,
    #[serde(deserialize_with = "lenient::string")]
    pub lan_name: String,
    #[serde(deserialize_with = "lenient::string")]
    pub lan_cidr: String,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub lan_dns: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub image_name: String,
    pub image_size_mb: u64,
    pub image_segment_size_mb: u64,
    pub clock_file: Option<PathBuf>,
    pub shutdown_timeout_seconds: u64,
    pub workers: Option<usize>,
    #[serde(deserialize_with = "lenient::string")]
    pub guest_name_prefix: String,
    #[serde(deserialize_with = "lenient::string")]
    pub guest_domain: String,
    pub guest_memory_mb: u32,
    pub guest_lifetime_days: u32,
    pub guest_expiry_grace_days: u32,
    pub reset_keep_days: u32,
    pub monitor_unresponsive_seconds: u64,
    pub staged_start_on_boot: bool,
    pub staged_stop_on_shutdown: bool,
    pub monitor_halt_grace_seconds: u64,
    pub monitor_service_retry_seconds: u64,
    pub pool_target_size: u32,
    #[serde(deserialize_with = "lenient::string")]
    pub pool_copy_method: String,
    pub provision_concurrency: usize,
    #[serde(deserialize_with = "lenient::string")]
    pub roles: String,
    pub firewall_default_minutes: u32,
    pub firewall_max_minutes: u32,
    pub firewall_max_open_per_guest: u32,
    #[serde(deserialize_with = "lenient::string")]
    pub firewall_tcp_ports: String,
    #[serde(deserialize_with = "lenient::string")]
    pub firewall_udp_ports: String,
    #[serde(deserialize_with = "lenient::string")]
    pub trusted_proxies: String,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Marks session cookies `Secure` even over plain HTTP (behind a TLS
    /// proxy that does not say so).
    pub cookie_secure: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./var"),
            database_url: None,
            database_pool_size: 10,
            admin_password: None,
            ldap_url: None,
            ldap_bind_dn: None,
            ldap_bind_password: None,
            ldap_user_base: None,
            ldap_user_filter: "(uid={username})".into(),
            ldap_group_base: None,
            ldap_group_member_attribute: "member".into(),
            ldap_staff_group: "staff".into(),
            ldap_admin_group: "admin".into(),
            ldap_timeout_seconds: 5,
            ldap_recheck_seconds: 300,
            token_default_ttl_seconds: 8 * 3600,
            token_max_ttl_seconds: 30 * 24 * 3600,
            login_failures_per_user: 5,
            login_failures_per_address: 20,
            login_failure_window_seconds: 60,
            max_body_bytes: 256 * 1024,
            lan_name: "LNXLAN1".into(),
            lan_cidr: "10.10.0.0/22".into(),
            lan_dns: None,
            image_name: "golden".into(),
            image_size_mb: 64,
            image_segment_size_mb: 2,
            clock_file: None,
            shutdown_timeout_seconds: 10,
            workers: None,
            guest_name_prefix: "LX".into(),
            guest_domain: "herd.local".into(),
            guest_memory_mb: 64,
            guest_lifetime_days: 5 * 365,
            guest_expiry_grace_days: 14,
            reset_keep_days: 7,
            monitor_unresponsive_seconds: 300,
            staged_start_on_boot: false,
            staged_stop_on_shutdown: false,
            monitor_halt_grace_seconds: 120,
            monitor_service_retry_seconds: 60,
            pool_target_size: 5,
            pool_copy_method: "flashcopy".into(),
            provision_concurrency: 4,
            roles: "all".into(),
            firewall_default_minutes: 90,
            firewall_max_minutes: 8 * 60,
            firewall_max_open_per_guest: 5,
            firewall_tcp_ports: "80,443,1024-65535".into(),
            firewall_udp_ports: "1024-65535".into(),
            trusted_proxies: String::new(),
            tls_cert: None,
            tls_key: None,
            cookie_secure: false,
        }
    }
}

/// Shown by `herd-server --help`; the README lists the most used.
pub const SETTINGS_HELP: &str = "\
Configuration: a TOML file (--config PATH, or ./herd.toml when present) whose
keys are the names below in lower case without HERD_; every key can be
overridden by its environment variable.

  HERD_LISTEN                        address to listen on [127.0.0.1:8080]
  HERD_DATA_DIR                      data directory: SQLite file, simulated z/VM [./var]
  HERD_DATABASE_URL                  postgres://… or a SQLite path [<data dir>/herd.db]
  HERD_DATABASE_POOL_SIZE            database connections [10]
  HERD_ADMIN_PASSWORD                password of the bootstrap user `admin` at first
                                     start [generated and printed once]
  HERD_LDAP_URL                      ldap:// or ldaps:// URL; unset: local accounts only
  HERD_LDAP_BIND_DN                  service account that searches the directory
  HERD_LDAP_BIND_PASSWORD            its password
  HERD_LDAP_USER_BASE                where users are searched
  HERD_LDAP_USER_FILTER              [(uid={username})]; {username} is escaped
  HERD_LDAP_GROUP_BASE               where role groups are searched
  HERD_LDAP_GROUP_MEMBER_ATTRIBUTE   member (groupOfNames, DNs) or memberUid
                                     (posixGroup, user ids) [member]
  HERD_LDAP_STAFF_GROUP              cn of the course staff group [staff]
  HERD_LDAP_ADMIN_GROUP              cn of the administrators group [admin]
  HERD_LDAP_TIMEOUT_SECONDS          per directory operation [5]
  HERD_LDAP_RECHECK_SECONDS          a directory user's role and existence are looked up
                                     again this often while their tokens are used [300]
  HERD_TOKEN_DEFAULT_TTL_SECONDS     token lifetime when none is asked [28800]
  HERD_TOKEN_MAX_TTL_SECONDS         longest token lifetime granted [2592000]
  HERD_LOGIN_FAILURES_PER_USER       failed logins per user name per window [5]
  HERD_LOGIN_FAILURES_PER_ADDRESS    failed logins per client address per window [20]
  HERD_LOGIN_FAILURE_WINDOW_SECONDS  the throttling window [60]
  HERD_MAX_BODY_BYTES                largest request body [262144]
  HERD_LAN_NAME, HERD_LAN_CIDR       guest LAN seeded at first start [LNXLAN1, 10.10.0.0/22]
  HERD_LAN_DNS                       its DNS server [the gateway, first host]
  HERD_IMAGE_NAME, HERD_IMAGE_SIZE_MB  golden image seeded at first start, its root [golden, 64]
  HERD_IMAGE_SEGMENT_SIZE_MB         its segment template, what each guest copies [2]
  HERD_CLOCK_FILE                    tests only: read the time (ms since epoch) from
                                     this file instead of the system clock
  HERD_SHUTDOWN_TIMEOUT_SECONDS      grace period for requests at SIGTERM [10]
  HERD_WORKERS                       HTTP worker threads [number of cores]
  HERD_GUEST_NAME_PREFIX             guest names: prefix + sequence, 8 characters [LX]
  HERD_GUEST_DOMAIN                  host names are <name>.<domain> [herd.local]
  HERD_GUEST_MEMORY_MB               memory of new guests [64]
  HERD_GUEST_LIFETIME_DAYS           expires_at = assignment + this [1825]
  HERD_GUEST_EXPIRY_GRACE_DAYS       warning at expiry, decommission this much later [14]
  HERD_RESET_KEEP_DAYS               a reset keeps the old segment for undo this long [7]
  HERD_MONITOR_UNRESPONSIVE_SECONDS  no heartbeat this long: HALT [300]
  HERD_STAGED_START_ON_BOOT          boot the auto_boot guests in batches at start [false]
  HERD_STAGED_STOP_ON_SHUTDOWN       at SIGTERM, stop every guest in batches, then exit [false]
  HERD_MONITOR_HALT_GRACE_SECONDS    still unresponsive this long after HALT: FORCE, IPL [120]
  HERD_MONITOR_SERVICE_RETRY_SECONDS between restarts of a service found down, or reboots after failed boots [60]
  HERD_POOL_TARGET_SIZE              warm pool size until changed by PUT /pool [5]
  HERD_POOL_COPY_METHOD              flashcopy or ddr, until changed by PUT /pool [flashcopy]
  HERD_PROVISION_CONCURRENCY         guests cloned in parallel [4]
  HERD_ROLES                         what this process does besides the API: all, or a
                                     list of dispatcher, provisioner (api: neither) [all]
  HERD_FIREWALL_TCP_PORTS            tcp ports students may open, ports and ranges
                                     separated by commas; empty: none [80,443,1024-65535]
  HERD_FIREWALL_UDP_PORTS            udp ports students may open [1024-65535]
  HERD_FIREWALL_DEFAULT_MINUTES      lease duration when none is asked [90]
  HERD_FIREWALL_MAX_MINUTES          longest lease (and renewal) [480]
  HERD_FIREWALL_MAX_OPEN_PER_GUEST   open ports per guest at a time [5]
  HERD_TLS_CERT, HERD_TLS_KEY        PEM certificate chain and private key: serve HTTPS
                                     (read again on SIGHUP); unset: plain HTTP
  HERD_COOKIE_SECURE                 mark the web page's session cookie Secure even when
                                     the request came over plain HTTP (it always is over
                                     HTTPS) [false]
  HERD_TRUSTED_PROXIES               networks (10.0.0.0/8) or addresses of the proxies whose
                                     Forwarded / X-Forwarded-For name the client, separated
                                     by commas; empty: none [empty]";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
}

impl Settings {
    /// Reads the layers. Unknown keys in the file are errors (a typo should
    /// not silently fall back to a default); other `HERD_*` variables, such
    /// as the clients' `HERD_URL`, are not the server's and are ignored.
    pub fn load(config_file: Option<&Path>) -> Result<Self, ConfigError> {
        let default_file = Path::new("herd.toml");
        let file = config_file.or(default_file.exists().then_some(default_file));
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        let known = Self::keys();
        let env = Env::prefixed("HERD_")
            .filter(move |key| known.iter().any(|k| key.as_str().eq_ignore_ascii_case(k)));
        figment
            .merge(env)
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))
    }

    fn keys() -> Vec<String> {
        match serde_json::to_value(Settings::default()) {
            Ok(serde_json::Value::Object(map)) => map.into_iter().map(|(k, _)| k).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether this process does a kind of background work (`HERD_ROLES`).
    pub fn has_role(&self, role: &str) -> bool {
        self.roles
            .split(',')
            .map(str::trim)
            .any(|r| r == "all" || r == role)
    }

    /// The firewall policy from the `firewall_*` keys, checked: port lists
    /// parse, ranges are ordered, the default is within the maximum.
    pub fn firewall_policy(&self) -> Result<FirewallPolicy, String> {
        fn ranges(key: &str, list: &str) -> Result<Vec<PortRange>, String> {
            list.split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(|r| {
                    r.parse::<PortRange>()
                        .map_err(|e| format!("HERD_{key} `{list}`: {e}"))
                })
                .collect()
        }
        let spec = serde_json::json!({
            "tcp": ranges("FIREWALL_TCP_PORTS", &self.firewall_tcp_ports)?,
            "udp": ranges("FIREWALL_UDP_PORTS", &self.firewall_udp_ports)?,
            "default_minutes": self.firewall_default_minutes,
            "max_minutes": self.firewall_max_minutes,
            "max_open_per_guest": self.firewall_max_open_per_guest,
        });
        serde_json::from_value(spec).map_err(|e| format!("HERD_FIREWALL_*: {e}"))
    }

    /// The certificate to serve HTTPS with, loaded (both files or neither).
    pub fn tls(&self) -> Result<Option<crate::tls::ReloadableCert>, String> {
        let set = |p: &Option<PathBuf>| p.clone().filter(|p| !p.as_os_str().is_empty());
        match (&set(&self.tls_cert), &set(&self.tls_key)) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => crate::tls::ReloadableCert::load(cert, key).map(Some),
            _ => Err("HERD_TLS_CERT and HERD_TLS_KEY go together: set both, or neither".into()),
        }
    }

    /// The proxies `HERD_TRUSTED_PROXIES` names, checked.
    pub fn trusted_proxies(&self) -> Result<TrustedProxies, String> {
        self.trusted_proxies
            .parse()
            .map_err(|e| format!("HERD_TRUSTED_PROXIES: {e}"))
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| self.data_dir.join("herd.db").to_string_lossy().into_owned())
    }
}

/// Environment values are parsed like TOML, so `HERD_ADMIN_PASSWORD=12345`
/// arrives as a number; text settings take any scalar as its text.
mod lenient {
    use serde::de::{Deserializer, Error, Visitor};
    use std::fmt;

    struct Text;

    impl<'de> Visitor<'de> for Text {
        type Value = Option<String>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("text")
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_bool<E: Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(Text)
        }
    }

    pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(Text)
    }

    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        d.deserialize_any(Text)?
            .ok_or_else(|| D::Error::custom("expected text"))
    }
}

#[cfg(test)]
// figment's Jail fixes the closure's error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn numeric_passwords_stay_text_and_env_overrides_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "herd.toml",
                "listen = \"127.0.0.1:9999\"\nldap_staff_group = \"tutors\"",
            )?;
            jail.set_env("HERD_ADMIN_PASSWORD", "12345");
            jail.set_env("HERD_LISTEN", "127.0.0.1:7000");
            jail.set_env("HERD_TEST_PG_URL", "postgres://ignored");
            let s = Settings::load(None).map_err(|e| e.to_string())?;
            assert_eq!(s.admin_password.as_deref(), Some("12345"));
            assert_eq!(s.listen, "127.0.0.1:7000");
            assert_eq!(s.ldap_staff_group, "tutors");
            assert_eq!(s.ldap_user_filter, "(uid={username})");
            Ok(())
        });
    }

    #[test]
    fn firewall_policy_from_flat_keys() {
        use herd_core::domain::{Port, Protocol};
        let defaults = Settings::default().firewall_policy().unwrap();
        assert_eq!(defaults, FirewallPolicy::default());
        figment::Jail::expect_with(|jail| {
            jail.set_env("HERD_FIREWALL_TCP_PORTS", "8000-8999, 443");
            jail.set_env("HERD_FIREWALL_UDP_PORTS", "");
            jail.set_env("HERD_FIREWALL_MAX_MINUTES", "120");
            let p = Settings::load(None)
                .map_err(|e| e.to_string())?
                .firewall_policy()?;
            let port = |n: u16| Port::try_from(n).unwrap();
            assert_eq!(p.check(Protocol::Tcp, port(8080), None), Ok(90));
            assert!(p.check(Protocol::Tcp, port(80), None).is_err());
            assert!(p.allowed(Protocol::Udp).is_empty());
            assert_eq!(p.max_minutes(), 120);
            Ok(())
        });
        let mut bad = Settings {
            firewall_tcp_ports: "80,2000-1000".into(),
            ..Settings::default()
        };
        assert!(bad.firewall_policy().unwrap_err().contains("2000-1000"));
        bad.firewall_tcp_ports = "80".into();
        bad.firewall_default_minutes = 600;
        assert!(bad.firewall_policy().unwrap_err().contains("max_minutes"));
    }

    #[test]
    fn unknown_keys_in_the_file_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("herd.toml", "lisen = \"127.0.0.1:9999\"")?;
            let err = Settings::load(None).unwrap_err().to_string();
            assert!(err.contains("lisen"), "{err}");
            Ok(())
        });
    }
}
