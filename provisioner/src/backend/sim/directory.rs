//! The user directory and the tags kept with each entry.

use std::collections::{BTreeMap, BTreeSet};

use herd_core::domain::GuestName;

use super::fault::SimOp;
use super::state::{Power, Service, State, User};
use super::SimBackend;
use crate::backend::{
    BackendError, Directory, DiskId, DiskStatus, Result, ServiceSpec, Tags, UserSpec,
};

const MAX_TAG_KEY: usize = 32;
const MAX_TAG_VALUE: usize = 255;

fn check_services(services: &[ServiceSpec]) -> Result<()> {
    let mut seen = BTreeSet::new();
    for s in services {
        // The console grammar splits on blanks, so a name must be one word.
        let one_word = !s.name.is_empty() && !s.name.contains(char::is_whitespace);
        if !one_word || !seen.insert(s.name.to_ascii_lowercase()) {
            return Err(BackendError::InvalidArgument(format!(
                "service name `{}` is empty, has blanks or is not unique",
                s.name
            )));
        }
    }
    Ok(())
}

/// Tag keys are upper-cased like everything CP shows: `HOSTNAME`, `IPADDR`.
fn tag_key(key: &str) -> Result<String> {
    let key = key.to_ascii_uppercase();
    let ok_char = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_';
    let starts_with_letter = key.starts_with(|c: char| c.is_ascii_uppercase());
    if key.len() > MAX_TAG_KEY || !starts_with_letter || !key.chars().all(ok_char) {
        return Err(BackendError::InvalidArgument(format!(
            "`{key}` is not a tag key"
        )));
    }
    Ok(key)
}

fn check_tag_value(key: &str, value: &str) -> Result<()> {
    if value.len() > MAX_TAG_VALUE || value.contains(char::is_control) {
        return Err(BackendError::InvalidArgument(format!(
            "value of tag {key} is longer than {MAX_TAG_VALUE} bytes or has control characters"
        )));
    }
    Ok(())
}

impl State {
    fn logged_off(&self, name: &GuestName) -> Result<&User> {
        let user = self.user(name)?;
        if user.power != Power::LoggedOff {
            return Err(BackendError::invalid_state(name, "must be logged off"));
        }
        Ok(user)
    }

    fn rename_everywhere(&mut self, from: &GuestName, to: &GuestName) {
        let owned: Vec<DiskId> = self
            .disks
            .keys()
            .filter(|id| id.owner() == Some(from))
            .cloned()
            .collect();
        for id in owned {
            if let (Some(record), DiskId::Minidisk(_, vdev)) = (self.disks.remove(&id), id) {
                self.disks
                    .insert(DiskId::Minidisk(to.clone(), vdev), record);
            }
        }
        for lan in self.lans.values_mut() {
            for set in [&mut lan.granted, &mut lan.coupled] {
                if set.remove(from) {
                    set.insert(to.clone());
                }
            }
        }
        self.faults.iter_mut().for_each(|f| f.rename(from, to));
    }
}

impl Directory for SimBackend {
    fn add_user(&self, spec: &UserSpec) -> Result<()> {
        check_services(&spec.services)?;
        if spec.memory_mb == 0 {
            return Err(BackendError::InvalidArgument(
                "memory_mb must be positive".into(),
            ));
        }
        self.write_unless_refused(SimOp::AddUser, &spec.name, |state, _| {
            if state.users.contains_key(&spec.name) {
                return Err(BackendError::exists(&spec.name));
            }
            let services = spec
                .services
                .iter()
                .map(|s| Service {
                    spec: s.clone(),
                    up_at: None,
                    down_at: None,
                    dies_after_ms: None,
                    broken: false,
                })
                .collect();
            let user = User {
                memory_mb: spec.memory_mb,
                services,
                tags: BTreeMap::new(),
                power: Power::LoggedOff,
                root_link: None,
                booted_root: None,
            };
            state.users.insert(spec.name.clone(), user);
            Ok(())
        })
    }

    fn delete_user(&self, name: &GuestName) -> Result<()> {
        let files = self.write(|state, _| {
            state.logged_off(name)?;
            let files = state.take_disks_of(name)?;
            for lan in state.lans.values_mut() {
                lan.granted.remove(name);
                lan.coupled.remove(name);
            }
            state.faults.retain(|f| f.outlives(name));
            state.users.remove(name);
            Ok(files)
        })?;
        files.into_iter().try_for_each(|f| self.remove_files(f))
    }

    fn change_user_id(&self, from: &GuestName, to: &GuestName) -> Result<()> {
        self.write(|state, _| {
            if state.users.contains_key(to) {
                return Err(BackendError::exists(to));
            }
            let user = state.logged_off(from)?.clone();
            state.users.remove(from);
            state.users.insert(to.clone(), user);
            state.rename_everywhere(from, to);
            Ok(())
        })
    }

    fn link_root(&self, guest: &GuestName, root: &DiskId) -> Result<()> {
        if root.as_root().is_none() {
            return Err(BackendError::InvalidArgument(format!(
                "{root} is not a root version"
            )));
        }
        self.write(|state, _| {
            match state.disks.get(root) {
                Some(d) if d.status == DiskStatus::Ready => {}
                Some(_) => return Err(BackendError::invalid_state(root, "is still being copied")),
                None => return Err(BackendError::not_found(root)),
            }
            state.user_mut(guest)?.root_link = Some(root.clone());
            Ok(())
        })
    }

    fn list_users(&self) -> Result<Vec<UserSpec>> {
        self.read(|state, _| {
            Ok(state
                .users
                .iter()
                .map(|(name, u)| UserSpec {
                    name: name.clone(),
                    memory_mb: u.memory_mb,
                    services: u.services.iter().map(|s| s.spec.clone()).collect(),
                })
                .collect())
        })
    }
}

impl Tags for SimBackend {
    fn set_tags(&self, guest: &GuestName, tags: &BTreeMap<String, String>) -> Result<()> {
        let checked = tags
            .iter()
            .map(|(k, v)| {
                let key = tag_key(k)?;
                check_tag_value(&key, v)?;
                Ok((key, v.clone()))
            })
            .collect::<Result<Vec<_>>>()?;
        self.write_unless_refused(SimOp::SetTags, guest, |state, _| {
            state.user_mut(guest)?.tags.extend(checked);
            Ok(())
        })
    }

    fn delete_tag(&self, guest: &GuestName, key: &str) -> Result<()> {
        let key = tag_key(key)?;
        self.write(|state, _| {
            state.user_mut(guest)?.tags.remove(&key);
            Ok(())
        })
    }

    fn tags(&self, guest: &GuestName) -> Result<BTreeMap<String, String>> {
        self.read(|state, _| Ok(state.user(guest)?.tags.clone()))
    }
}
