//! Directory login (SPEC §3): search the user's DN with the service
//! account, bind as that DN with the user's password, then read the role
//! from group membership. Every value put into a filter is escaped.

use std::collections::HashMap;
use std::time::Duration;

use herd_core::domain::Role;
use herd_core::store::users::DirectoryUser;
use ldap3::{ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry};

use crate::config::Settings;

const INVALID_CREDENTIALS: u32 = 49;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("invalid username or password")]
    InvalidCredentials,
    #[error("the directory is unavailable: {0}")]
    Unavailable(String),
    #[error("the directory is not configured: {0} is not set")]
    NotConfigured(&'static str),
}

impl From<LdapError> for DirectoryError {
    fn from(e: LdapError) -> Self {
        DirectoryError::Unavailable(e.to_string())
    }
}

/// How groups name their members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberAttribute {
    /// groupOfNames: `member` holds user DNs.
    MemberDn,
    /// posixGroup: `memberUid` holds user ids.
    MemberUid,
}

#[derive(Debug, Clone)]
pub struct Directory {
    url: String,
    bind_dn: String,
    bind_password: String,
    user_base: String,
    user_filter: String,
    group_base: Option<String>,
    member_attribute: MemberAttribute,
    staff_group: String,
    admin_group: String,
    timeout: Duration,
}

impl Directory {
    /// `None` when no directory is configured (local accounts only).
    pub fn from_settings(s: &Settings) -> Result<Option<Self>, DirectoryError> {
        let Some(url) = s.ldap_url.clone().filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        let member_attribute = if s
            .ldap_group_member_attribute
            .eq_ignore_ascii_case("memberUid")
        {
            MemberAttribute::MemberUid
        } else {
            MemberAttribute::MemberDn
        };
        Ok(Some(Self {
            url,
            bind_dn: s.ldap_bind_dn.clone().unwrap_or_default(),
            bind_password: s.ldap_bind_password.clone().unwrap_or_default(),
            user_base: s
                .ldap_user_base
                .clone()
                .ok_or(DirectoryError::NotConfigured("HERD_LDAP_USER_BASE"))?,
            user_filter: s.ldap_user_filter.clone(),
            group_base: s.ldap_group_base.clone(),
            member_attribute,
            staff_group: s.ldap_staff_group.clone(),
            admin_group: s.ldap_admin_group.clone(),
            timeout: Duration::from_secs(s.ldap_timeout_seconds.max(1)),
        }))
    }

    /// Checks a password against the directory and says who the user is.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<DirectoryUser, DirectoryError> {
        // An empty password is an anonymous bind on many servers: it would
        // "succeed" for anyone.
        if password.is_empty() {
            return Err(DirectoryError::InvalidCredentials);
        }
        let mut ldap = self.service_connection().await?;
        let result = self.authenticate_on(&mut ldap, username, password).await;
        let _ = ldap.unbind().await;
        result
    }

    async fn authenticate_on(
        &self,
        ldap: &mut Ldap,
        username: &str,
        password: &str,
    ) -> Result<DirectoryUser, DirectoryError> {
        let entry = self.find_user(ldap, username).await?;
        let bind = ldap
            .with_timeout(self.timeout)
            .simple_bind(&entry.dn, password)
            .await?;
        match bind.rc {
            0 => {}
            INVALID_CREDENTIALS => return Err(DirectoryError::InvalidCredentials),
            rc => {
                tracing::info!(rc, dn = %entry.dn, "directory refused the user's bind");
                return Err(DirectoryError::InvalidCredentials);
            }
        }
        self.bind_service(ldap).await?;
        self.describe(ldap, &entry, username).await
    }

    /// A user entry as herd keeps it: the stored name is the directory's
    /// `uid`, the display name its `cn`, the role from group membership.
    async fn describe(
        &self,
        ldap: &mut Ldap,
        entry: &SearchEntry,
        asked: &str,
    ) -> Result<DirectoryUser, DirectoryError> {
        let uid = first(&entry.attrs, "uid").unwrap_or(asked).to_owned();
        let role = self.role_of(ldap, &entry.dn, &uid).await?;
        Ok(DirectoryUser {
            display_name: first(&entry.attrs, "cn").unwrap_or(&uid).to_owned(),
            email: first(&entry.attrs, "mail").map(str::to_owned),
            username: uid,
            role,
        })
    }

    /// Whether the directory answers and the service account binds.
    pub async fn check(&self) -> Result<(), DirectoryError> {
        let mut ldap = self.service_connection().await?;
        let _ = ldap.unbind().await;
        Ok(())
    }

    /// Who the directory knows by this user id (no password involved):
    /// lets staff provision for students who never logged in, and tells a
    /// user's role and existence again while their tokens are used.
    pub async fn lookup(&self, username: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        let mut ldap = self.service_connection().await?;
        let result = match self.find_user(&mut ldap, username).await {
            Ok(entry) => self.describe(&mut ldap, &entry, username).await.map(Some),
            Err(DirectoryError::InvalidCredentials) => Ok(None),
            Err(e) => Err(e),
        };
        let _ = ldap.unbind().await;
        result
    }

    /// The user ids of a group's members, in either membership layout.
    /// `None` when there is no such group.
    pub async fn group_members(&self, group: &str) -> Result<Option<Vec<String>>, DirectoryError> {
        let base = self
            .group_base
            .as_deref()
            .ok_or(DirectoryError::NotConfigured("HERD_LDAP_GROUP_BASE"))?;
        let mut ldap = self.service_connection().await?;
        let attr = match self.member_attribute {
            MemberAttribute::MemberDn => "member",
            MemberAttribute::MemberUid => "memberUid",
        };
        let filter = format!("(cn={})", ldap_escape(group));
        let (entries, _) = ldap
            .with_timeout(self.timeout)
            .search(base, Scope::Subtree, &filter, vec![attr])
            .await?
            .success()?;
        let Some(entry) = entries.into_iter().next().map(SearchEntry::construct) else {
            let _ = ldap.unbind().await;
            return Ok(None);
        };
        let values = entry.attrs.get(attr).cloned().unwrap_or_default();
        let mut members = Vec::new();
        for value in values {
            match self.member_attribute {
                MemberAttribute::MemberUid => members.push(value),
                MemberAttribute::MemberDn => {
                    if let Some(uid) = self.uid_of_dn(&mut ldap, &value).await? {
                        members.push(uid);
                    }
                }
            }
        }
        let _ = ldap.unbind().await;
        members.sort();
        members.dedup();
        Ok(Some(members))
    }

    async fn uid_of_dn(&self, ldap: &mut Ldap, dn: &str) -> Result<Option<String>, DirectoryError> {
        let found = ldap
            .with_timeout(self.timeout)
            .search(dn, Scope::Base, "(objectClass=*)", vec!["uid"])
            .await?
            .success();
        // A member DN that no longer exists is not a member.
        let Ok((entries, _)) = found else {
            return Ok(None);
        };
        Ok(entries
            .into_iter()
            .next()
            .map(SearchEntry::construct)
            .and_then(|e| first(&e.attrs, "uid").map(str::to_owned)))
    }

    async fn service_connection(&self) -> Result<Ldap, DirectoryError> {
        let settings = LdapConnSettings::new().set_conn_timeout(self.timeout);
        let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &self.url).await?;
        ldap3::drive!(conn);
        self.bind_service(&mut ldap).await?;
        Ok(ldap)
    }

    async fn bind_service(&self, ldap: &mut Ldap) -> Result<(), DirectoryError> {
        let bind = ldap
            .with_timeout(self.timeout)
            .simple_bind(&self.bind_dn, &self.bind_password)
            .await?;
        // The service account failing is herd's misconfiguration, not the
        // user's: answer "unavailable", never "wrong password".
        bind.success()
            .map(drop)
            .map_err(|e| DirectoryError::Unavailable(format!("service account bind failed: {e}")))
    }

    async fn find_user(
        &self,
        ldap: &mut Ldap,
        username: &str,
    ) -> Result<SearchEntry, DirectoryError> {
        let filter = self
            .user_filter
            .replace("{username}", &ldap_escape(username));
        let (entries, _) = ldap
            .with_timeout(self.timeout)
            .search(
                &self.user_base,
                Scope::Subtree,
                &filter,
                vec!["uid", "cn", "mail"],
            )
            .await?
            .success()?;
        // Zero or several matches: either way, not one identifiable user.
        match <[_; 1]>::try_from(entries) {
            Ok([entry]) => Ok(SearchEntry::construct(entry)),
            Err(_) => Err(DirectoryError::InvalidCredentials),
        }
    }

    async fn role_of(&self, ldap: &mut Ldap, dn: &str, uid: &str) -> Result<Role, DirectoryError> {
        let Some(base) = &self.group_base else {
            return Ok(Role::Student);
        };
        let member = match self.member_attribute {
            MemberAttribute::MemberDn => format!("(member={})", ldap_escape(dn)),
            MemberAttribute::MemberUid => format!("(memberUid={})", ldap_escape(uid)),
        };
        let filter = format!(
            "(&(|(cn={})(cn={})){member})",
            ldap_escape(&self.admin_group),
            ldap_escape(&self.staff_group)
        );
        let (entries, _) = ldap
            .with_timeout(self.timeout)
            .search(base, Scope::Subtree, &filter, vec!["cn"])
            .await?
            .success()?;
        let groups: Vec<SearchEntry> = entries.into_iter().map(SearchEntry::construct).collect();
        let in_group = |name: &str| {
            groups.iter().any(|g| {
                g.attrs
                    .get("cn")
                    .is_some_and(|cns| cns.iter().any(|c| c.eq_ignore_ascii_case(name)))
            })
        };
        Ok(if in_group(&self.admin_group) {
            Role::Admin
        } else if in_group(&self.staff_group) {
            Role::Staff
        } else {
            Role::Student
        })
    }
}

fn first<'a>(attrs: &'a HashMap<String, Vec<String>>, name: &str) -> Option<&'a str> {
    attrs.get(name).and_then(|v| v.first()).map(String::as_str)
}
