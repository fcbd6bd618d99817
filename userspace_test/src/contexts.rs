//! The contexts of `compare`: which netns a request targets, how the kernel path names it, and
//! with which credentials both paths run.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// The caller's own netns (`RSM_NETNS_CALLER`).
    Caller,
    /// A fresh netns the process enters first; the kernel path asks for "the caller's netns"
    /// (`RSM_NETNS_CALLER`), which is now another one than the device opener's.
    Entered,
    /// A fresh netns the process stays out of, named by an nsfs fd (`RSM_NETNS_FD`).
    NamedFd,
    /// ... named by path: the text command's `netns=/proc/PID/ns/net` (looked up by the module).
    NamedPath,
    /// ... named by the pid of a process parked there (`RSM_NETNS_PID`).
    NamedPid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub target: Target,
    /// The caller keeps root's capabilities (else: uid 65534, no capabilities, using a device
    /// descriptor its privileged parent opened).
    pub privileged: bool,
    /// The device descriptor was opened with CAP_NET_RAW. false: the process dropped
    /// CAP_NET_RAW (keeping CAP_NET_ADMIN) and then opened the device itself.
    pub opener_net_raw: bool,
}

impl Context {
    /// The kernel socket is made with `hold` and observed in sockstat: +1 in the target netns,
    /// +0 in the caller's netns (where the device was opened). Every target but the caller's.
    pub fn held(&self) -> bool {
        self.target != Target::Caller
    }

    /// The process stays in its netns and the kernel path names another one.
    pub fn named(&self) -> bool {
        matches!(
            self.target,
            Target::NamedFd | Target::NamedPath | Target::NamedPid
        )
    }

    pub fn name(&self) -> String {
        let target = match self.target {
            Target::Caller => "caller-netns",
            Target::Entered => "fresh-netns",
            Target::NamedFd => "named-fd",
            Target::NamedPath => "named-path",
            Target::NamedPid => "named-pid",
        };
        let who = match (self.privileged, self.opener_net_raw) {
            (true, true) => "root",
            (false, _) => "unprivileged",
            (true, false) => "no-net_raw",
        };
        format!("{target}/{who}")
    }
}

const fn ctx(target: Target, privileged: bool, opener_net_raw: bool) -> Context {
    Context {
        target,
        privileged,
        opener_net_raw,
    }
}

pub const CONTEXTS: [Context; 8] = [
    ctx(Target::Caller, true, true),
    ctx(Target::Entered, true, true),
    ctx(Target::NamedFd, true, true),
    ctx(Target::NamedPath, true, true),
    ctx(Target::NamedPid, true, true),
    ctx(Target::Caller, false, true),
    ctx(Target::Entered, false, true),
    ctx(Target::Caller, true, false),
];

/// The netns a request targets, as the kernel identifies it: nsfs inode and netns cookie,
/// both read from objects made there (not from the module).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Want {
    pub inode: u64,
    pub cookie: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct() {
        let names: std::collections::BTreeSet<String> =
            CONTEXTS.iter().map(Context::name).collect();
        assert_eq!(names.len(), CONTEXTS.len());
        assert_eq!(CONTEXTS.iter().filter(|c| c.named()).count(), 3);
        assert!(CONTEXTS.iter().any(|c| !c.opener_net_raw && c.privileged));
    }
}
