//! Rust client for the herd REST API.
//!
//! Generated at build time by [progenitor](https://github.com/oxidecomputer/progenitor)
//! from `clients/openapi-3.0.json`, the OpenAPI 3.0 copy of
//! `openapi/openapi.json` that `clients/regenerate.sh` writes. Never edit the
//! generated code; change the server and run `clients/regenerate.sh`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = herd_client::Client::with_token("http://127.0.0.1:8080", "TOKEN")?;
//! let guests = client.list_guests().send().await?;
//! println!("{} guests", guests.items.len());
//! # Ok(()) }
//! ```

#[allow(
    clippy::all,
    clippy::pedantic,
    dead_code,
    unused_imports,
    unused_mut,
    missing_docs,
    rustdoc::all
)]
mod generated {
    progenitor::generate_api!(
        spec = "../openapi-3.0.json",
        interface = Builder,
        tags = Merged,
    );
}

pub use generated::*;

/// The HTTP client library the generated code uses (for custom clients).
pub use reqwest;

impl Client {
    /// A client for `base_url` (e.g. `http://127.0.0.1:8080`, a trailing `/`
    /// is ignored) that sends `Authorization: Bearer <token>` on every call.
    pub fn with_token(base_url: &str, token: &str) -> Result<Client, ClientBuildError> {
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| ClientBuildError("the token contains invalid characters".into()))?;
        value.set_sensitive(true);
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, value);
        let http = Self::http_builder()
            .default_headers(headers)
            .build()
            .map_err(|e| ClientBuildError(e.to_string()))?;
        Ok(Client::new_with_client(
            base_url.trim_end_matches('/'),
            http,
        ))
    }

    /// A client without a token (for `create_token`, health checks).
    pub fn anonymous(base_url: &str) -> Result<Client, ClientBuildError> {
        let http = Self::http_builder()
            .build()
            .map_err(|e| ClientBuildError(e.to_string()))?;
        Ok(Client::new_with_client(
            base_url.trim_end_matches('/'),
            http,
        ))
    }

    fn http_builder() -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(15))
            .timeout(std::time::Duration::from_secs(120))
            .user_agent(concat!("herd-client/", env!("CARGO_PKG_VERSION")))
    }
}

/// Building the HTTP client failed (bad token characters, TLS setup).
#[derive(Debug, Clone)]
pub struct ClientBuildError(pub String);

impl std::fmt::Display for ClientBuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClientBuildError {}
