//! What a new installation starts with: a guest LAN, the service catalog and
//! the golden image. Idempotent, and safe when two processes start at once:
//! each row is inserted only when its name is not taken.

use ipnet::Ipv4Net;

use super::{catalog, lans, AnyConnection, StoreResult};
use crate::clock::Millis;

#[derive(Debug, Clone)]
pub struct SeedLan {
    pub name: String,
    pub cidr: Ipv4Net,
    pub dns: Option<std::net::Ipv4Addr>,
}

impl SeedLan {
    /// The first host address is the LAN's router.
    pub fn gateway(&self) -> std::net::Ipv4Addr {
        self.cidr.hosts().next().unwrap_or(self.cidr.addr())
    }

    /// Host addresses left for guests once the gateway has its own.
    pub fn capacity(&self) -> i32 {
        let hosts = self.cidr.hosts().count();
        i32::try_from(hosts.saturating_sub(1)).unwrap_or(i32::MAX)
    }
}

#[derive(Debug, Clone)]
pub struct SeedService {
    pub name: &'static str,
    pub priority: i32,
    pub command: &'static str,
    pub default_enabled: bool,
}

/// SPEC §1's catalog.
pub const DEFAULT_CATALOG: [SeedService; 3] = [
    SeedService {
        name: "apache",
        priority: 50,
        command: "/etc/rc.d/init.d/httpd",
        default_enabled: true,
    },
    SeedService {
        name: "jakarta",
        priority: 55,
        command: "/etc/rc.d/init.d/tomcat",
        default_enabled: false,
    },
    SeedService {
        name: "mysql",
        priority: 60,
        command: "/etc/rc.d/init.d/mysql",
        default_enabled: false,
    },
];

#[derive(Debug, Clone)]
pub struct SeedImage {
    pub name: String,
    pub description: String,
    /// Of the root.
    pub size_bytes: i64,
    pub segment_size_bytes: i64,
}

#[derive(Debug, Clone)]
pub struct Seed {
    pub lan: SeedLan,
    pub image: SeedImage,
}

pub fn apply(conn: &mut AnyConnection, seed: &Seed, now: Millis) -> StoreResult<()> {
    if lans::find_by_name(conn, &seed.lan.name)?.is_none() {
        let cidr = seed.lan.cidr.to_string();
        let gateway = seed.lan.gateway().to_string();
        let dns = seed
            .lan
            .dns
            .map(|d| d.to_string())
            .unwrap_or_else(|| gateway.clone());
        let new = lans::NewLan {
            name: &seed.lan.name,
            cidr: &cidr,
            gateway: &gateway,
            dns: &dns,
            capacity: seed.lan.capacity(),
        };
        ignore_conflict(lans::insert(conn, &new, now).map(drop))?;
    }
    let present: Vec<String> = catalog::services(conn)?
        .into_iter()
        .map(|s| s.name)
        .collect();
    for s in DEFAULT_CATALOG
        .iter()
        .filter(|s| !present.iter().any(|p| p == s.name))
    {
        let new = catalog::NewService {
            name: s.name,
            priority: s.priority,
            command: s.command,
            default_enabled: s.default_enabled,
        };
        ignore_conflict(catalog::insert_service(conn, &new))?;
    }
    if !catalog::images(conn)?
        .iter()
        .any(|i| i.name == seed.image.name)
    {
        let new = catalog::NewImage {
            name: &seed.image.name,
            description: &seed.image.description,
            size_bytes: seed.image.size_bytes,
            segment_size_bytes: seed.image.segment_size_bytes,
        };
        ignore_conflict(catalog::insert_image(conn, &new, now))?;
    }
    Ok(())
}

/// Another process seeded the same row first: that is what we wanted.
fn ignore_conflict(r: StoreResult<()>) -> StoreResult<()> {
    match r {
        Err(e) if e.is_conflict() => Ok(()),
        other => other,
    }
}
